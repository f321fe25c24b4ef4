package modelcmd

import (
	"fmt"
	"time"

	"github.com/passline/passline/agent/predict"
)

// The default ready_soon rule as the evaluation plays it: every
// RetryInterval while the order cooks, ready_soon goes out once, the first
// time P(ready within lead_time | elapsed) ≥ ConfidentP.
const (
	readySoonLead  = 5 * time.Minute // the default lead_time
	readySoonTick  = 30 * time.Second
	readySoonUntil = 3 * time.Hour // an order still cooking then is not followed further
)

// ReadySoon is what riders would be told under the default ready_soon
// rule: of Orders scored, Sent got a ready_soon (Coverage = Sent/Orders),
// with mean P Predicted, and the order was ready within the lead time of
// the decision in Observed of them.
type ReadySoon struct {
	LeadS     int     `json:"lead_s"`
	Orders    int     `json:"orders"`
	Sent      int     `json:"sent"`
	Coverage  float64 `json:"coverage"`
	Predicted float64 `json:"predicted"`
	Observed  float64 `json:"observed"`
	hits      int
	psum      float64
}

// add plays the rule on one order that took actual and reports whether a
// ready_soon was sent.
func (r *ReadySoon) add(p predict.Prediction, actual time.Duration) {
	r.Orders++
	for e := time.Duration(0); e < actual && e <= readySoonUntil; e += readySoonTick {
		pr := p.PReady(e, readySoonLead)
		if pr < ConfidentP {
			continue
		}
		r.Sent++
		r.psum += pr
		if actual <= e+readySoonLead {
			r.hits++
		}
		return
	}
}

func (r *ReadySoon) finish() {
	r.LeadS = int(readySoonLead.Seconds())
	if r.Orders > 0 {
		r.Coverage = float64(r.Sent) / float64(r.Orders)
	}
	if r.Sent > 0 {
		r.Predicted, r.Observed = r.psum/float64(r.Sent), float64(r.hits)/float64(r.Sent)
	}
}

// HorizonConfident is, for one horizon D, the predictions of P(ready
// within D | elapsed) ≥ ConfidentP: how many, their mean, how often true.
type HorizonConfident struct {
	D         int     `json:"d_s"`
	N         int     `json:"n"`
	Predicted float64 `json:"predicted"`
	Observed  float64 `json:"observed"`
	hits      int
	psum      float64
}

// ClassReport is the evaluation of the orders of stores in one size class
// (by how many orders the store's model had learned at the order's accept).
type ClassReport struct {
	Class        string             `json:"class"`
	Orders       int                `json:"orders"`
	ModelMAE     float64            `json:"model_mae_s"`
	StoreMAE     float64            `json:"store_median_mae_s"`
	RatioToStore float64            `json:"model_to_store_median"`
	Confident    []HorizonConfident `json:"confident"`
	ReadySoon    ReadySoon          `json:"ready_soon"`
	modelAbs     float64
	storeAbs     float64
}

type classTable struct {
	classes [predict.Classes]ClassReport
	all     ReadySoon
}

func newClassTable() *classTable {
	t := &classTable{}
	for c := range t.classes {
		t.classes[c].Class = predict.ClassName(c)
		for _, d := range horizons {
			t.classes[c].Confident = append(t.classes[c].Confident, HorizonConfident{D: int(d.Seconds())})
		}
	}
	return t
}

// score counts one order of class c, asked at the calibration
// checkpoints, with the model's and the store median's absolute errors.
func (t *classTable) score(c int, p predict.Prediction, actual time.Duration, modelAbs, storeAbs float64) {
	cr := &t.classes[c]
	cr.Orders++
	cr.modelAbs += modelAbs
	cr.storeAbs += storeAbs
	for _, e := range checkpoint {
		if actual <= e {
			break
		}
		for k, d := range horizons {
			pr := p.PReady(e, d)
			if pr < ConfidentP {
				continue
			}
			h := &cr.Confident[k]
			h.N++
			h.psum += pr
			if actual <= e+d {
				h.hits++
			}
		}
	}
	cr.ReadySoon.add(p, actual)
	t.all.add(p, actual)
}

func (t *classTable) finish() ([]ClassReport, ReadySoon) {
	out := make([]ClassReport, 0, len(t.classes))
	for _, cr := range t.classes {
		if cr.Orders == 0 {
			continue
		}
		cr.ModelMAE, cr.StoreMAE = cr.modelAbs/float64(cr.Orders), cr.storeAbs/float64(cr.Orders)
		if cr.StoreMAE > 0 {
			cr.RatioToStore = cr.ModelMAE / cr.StoreMAE
		}
		cr.Confident = append([]HorizonConfident(nil), cr.Confident...)
		for k := range cr.Confident {
			h := &cr.Confident[k]
			if h.N > 0 {
				h.Predicted, h.Observed = h.psum/float64(h.N), float64(h.hits)/float64(h.N)
			}
		}
		cr.ReadySoon.finish()
		out = append(out, cr)
	}
	t.all.finish()
	return out, t.all
}

// priorBefore fits the fleet prior on the orders that were ready before
// the first scored order was accepted, so the prior knows nothing of the
// scored period. Without such orders, or when the fit fails, stores start
// from the default prior.
func priorBefore(rows []Row, split int) (predict.Fleet, string) {
	if split <= 0 || split >= len(rows) {
		return nil, "default (no orders before the scored ones to fit a fleet prior on)"
	}
	cut := rows[split].AcceptedAt
	var train []Row
	for _, r := range rows[:split] {
		if !r.ReadyAt.After(cut) {
			train = append(train, r)
		}
	}
	fl, err := FitFleet(train)
	if err != nil {
		return nil, fmt.Sprintf("default (fleet prior fit failed: %v)", err)
	}
	p := fl[predict.DefaultCategory]
	return fl, fmt.Sprintf("fleet prior fitted on %d orders of %d stores completed before the first scored order, %d categories",
		p.Orders, p.Stores, len(fl)-1)
}
