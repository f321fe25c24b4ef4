package modelcmd

import (
	"math"
	"sort"
	"time"

	"github.com/passline/passline/agent/predict"
)

// Calibration horizons (d) and the elapsed times at which an open order is
// asked P(ready within d | elapsed).
var (
	horizons   = []time.Duration{2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute}
	checkpoint = []time.Duration{0, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute, 15 * time.Minute, 20 * time.Minute}
	bucketEdge = []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0000001}
)

// ConfidentP is the probability from which a prediction counts as
// confident: the default confidence_threshold.
const ConfidentP = 0.85

// Errors summarises absolute errors of one method, in seconds.
type Errors struct {
	MAE       float64 `json:"mae_s"`
	MedianAbs float64 `json:"median_abs_s"`
	P90Abs    float64 `json:"p90_abs_s"`
	Bias      float64 `json:"bias_s"` // mean of predicted minus actual
	N         int     `json:"n"`
	abs       []float64
	sum       float64
}

func (e *Errors) add(pred, actual float64) {
	d := pred - actual
	e.abs = append(e.abs, math.Abs(d))
	e.sum += d
}

func (e *Errors) finish() {
	e.N = len(e.abs)
	if e.N == 0 {
		return
	}
	sort.Float64s(e.abs)
	t := 0.0
	for _, v := range e.abs {
		t += v
	}
	e.MAE = t / float64(e.N)
	e.MedianAbs = e.abs[e.N/2]
	e.P90Abs = e.abs[min(e.N*9/10, e.N-1)]
	e.Bias = e.sum / float64(e.N)
}

// CalBucket is one row of the calibration table: predictions of P(ready
// within D) in [PLo, PHi), how many, their mean, and how often the order
// really was ready in time.
type CalBucket struct {
	D         int     `json:"d_s"`
	PLo       float64 `json:"p_lo"`
	PHi       float64 `json:"p_hi"`
	N         int     `json:"n"`
	Predicted float64 `json:"predicted"`
	Observed  float64 `json:"observed"`
	hits      int
	psum      float64
}

// Confident summarises every prediction with P ≥ Threshold, all horizons.
type Confident struct {
	Threshold float64 `json:"threshold"`
	N         int     `json:"n"`
	Predicted float64 `json:"predicted"`
	Observed  float64 `json:"observed"`
}

// Report is the outcome of an evaluation.
type Report struct {
	Rows         int         `json:"rows"`
	BadRows      int         `json:"bad_rows"`
	Stores       int         `json:"stores"`
	Trained      int         `json:"trained"`
	Scored       int         `json:"scored"`
	TrainFrac    float64     `json:"train_frac"`
	Model        Errors      `json:"model"`
	StoreMedian  Errors      `json:"baseline_store_median"`
	GlobalMedian Errors      `json:"baseline_global_median"`
	BucketMedian Errors      `json:"baseline_bucket_median"`
	Calibration  []CalBucket `json:"calibration"`
	Confident    Confident   `json:"confident"`
	RatioToStore float64     `json:"model_to_store_median"`
	// Prior says where the stores' fleet prior came from.
	Prior string `json:"prior"`
	// ReadySoon is what riders would get under the default ready_soon rule
	// over all scored orders; Classes splits it and the confident
	// predictions by store-size class.
	ReadySoon ReadySoon     `json:"ready_soon"`
	Classes   []ClassReport `json:"classes"`
	Seconds   float64       `json:"elapsed_s"`

	predictionOut func(r *Row, pred float64, p []float64)
}

// evalOptions set how evaluate replays.
type evalOptions struct {
	TrainFrac float64
	// Fleet is the prior every store starts from; nil: the default prior.
	Fleet predict.Fleet
	// FitPrior fits the fleet prior on the orders completed before the
	// first scored order (FitFleet), replacing Fleet.
	FitPrior bool
	// PriorName says where Fleet came from, for the report.
	PriorName string
	Progress  func(done, total int)
	Out       func(r *Row, pred float64, p []float64)
}

// evaluate replays h, learning from every order and scoring the orders
// after the first trainFrac of them (in accept order).
func evaluate(h *History, opt evalOptions) *Report {
	start := time.Now()
	rows := h.Rows
	split := int(math.Round(opt.TrainFrac * float64(len(rows))))
	rep := &Report{Rows: len(rows), BadRows: h.BadRows, Trained: split, Scored: len(rows) - split, TrainFrac: opt.TrainFrac,
		predictionOut: opt.Out, Prior: opt.PriorName}
	if opt.FitPrior {
		opt.Fleet, rep.Prior = priorBefore(rows, split)
	}
	cal := newCalTable()
	classes := newClassTable()
	global := &globalMedian{}
	stores := map[string]*rollingMedian{}
	buckets := map[bucketKey]*rollingMedian{}
	keys := make([]bucketKey, len(rows))
	rp := predict.NewReplay(opt.Fleet)
	rp.Run(rows, predict.Hooks{
		Accept: func(i int, f *predict.Features, m *predict.Model) {
			r := &rows[i]
			keys[i] = bucketKey{r.Store, sizeBucket(f.Items), loadBucket(f.OpenOrders)}
			if i < split {
				return
			}
			actual := r.Prep().Seconds()
			p := m.Predict(f)
			pred := p.Median().Seconds()
			rep.Model.add(pred, actual)
			sm := stores[r.Store]
			storeMed := float64(defaultPrepS)
			if sm != nil {
				storeMed = sm.median(defaultPrepS)
			}
			rep.StoreMedian.add(storeMed, actual)
			rep.GlobalMedian.add(global.median(defaultPrepS), actual)
			bm := buckets[keys[i]]
			if bm != nil && bm.count() >= bucketMinN {
				rep.BucketMedian.add(bm.median(storeMed), actual)
			} else {
				rep.BucketMedian.add(storeMed, actual)
			}
			cal.score(p, r.Prep())
			classes.score(predict.Class(m.Learned()), p, r.Prep(), math.Abs(pred-actual), math.Abs(storeMed-actual))
			if rep.predictionOut != nil {
				ps := make([]float64, len(horizons))
				for k, d := range horizons {
					ps[k] = p.PReady(0, d)
				}
				rep.predictionOut(r, pred, ps)
			}
		},
		Ready: func(i int, f *predict.Features) {
			s := rows[i].Prep().Seconds()
			global.add(s)
			sm := stores[rows[i].Store]
			if sm == nil {
				sm = newRollingMedian(storeWindow)
				stores[rows[i].Store] = sm
			}
			sm.add(s)
			bm := buckets[keys[i]]
			if bm == nil {
				bm = newRollingMedian(bucketWindow)
				buckets[keys[i]] = bm
			}
			bm.add(s)
		},
		Tick: func(done int) {
			if opt.Progress != nil {
				opt.Progress(done, len(rows))
			}
		},
	})
	for _, e := range []*Errors{&rep.Model, &rep.StoreMedian, &rep.GlobalMedian, &rep.BucketMedian} {
		e.finish()
	}
	if rep.StoreMedian.MAE > 0 {
		rep.RatioToStore = rep.Model.MAE / rep.StoreMedian.MAE
	}
	rep.Stores = len(rp.Models)
	rep.Calibration, rep.Confident = cal.finish()
	rep.Classes, rep.ReadySoon = classes.finish()
	rep.Seconds = time.Since(start).Seconds()
	return rep
}

// calTable counts P(ready within d | elapsed) predictions against outcomes.
type calTable struct {
	rows [][]CalBucket // [horizon][bucket]
	conf Confident
	hits int
	psum float64
}

func newCalTable() *calTable {
	c := &calTable{conf: Confident{Threshold: ConfidentP}}
	for _, d := range horizons {
		var row []CalBucket
		for b := 0; b+1 < len(bucketEdge); b++ {
			row = append(row, CalBucket{D: int(d.Seconds()), PLo: bucketEdge[b], PHi: math.Min(bucketEdge[b+1], 1)})
		}
		c.rows = append(c.rows, row)
	}
	return c
}

// score asks p at every checkpoint the order was still open at.
func (c *calTable) score(p predict.Prediction, actual time.Duration) {
	for _, e := range checkpoint {
		if actual <= e {
			break
		}
		for k, d := range horizons {
			pr := p.PReady(e, d)
			b := sort.SearchFloat64s(bucketEdge, pr+1e-12) - 1
			b = min(max(b, 0), len(c.rows[k])-1)
			cb := &c.rows[k][b]
			hit := actual <= e+d
			cb.N++
			cb.psum += pr
			if hit {
				cb.hits++
			}
			if pr >= ConfidentP {
				c.conf.N++
				c.psum += pr
				if hit {
					c.hits++
				}
			}
		}
	}
}

func (c *calTable) finish() ([]CalBucket, Confident) {
	var out []CalBucket
	for _, row := range c.rows {
		for _, b := range row {
			if b.N > 0 {
				b.Predicted = b.psum / float64(b.N)
				b.Observed = float64(b.hits) / float64(b.N)
			}
			out = append(out, b)
		}
	}
	if c.conf.N > 0 {
		c.conf.Predicted = c.psum / float64(c.conf.N)
		c.conf.Observed = float64(c.hits) / float64(c.conf.N)
	}
	return out, c.conf
}
