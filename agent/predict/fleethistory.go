package predict

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"sort"
	"time"

	"github.com/passline/passline/history"
)

// FitHistory fits a fleet prior per store category from a history, as
// the cloud does. The pooled part (FitFleet) is fitted on every order. The size-class corrections are measured out of sample
// by cross-fitting on stores: the stores are split in two halves by a hash
// of their id, a prior is fitted on one half and the other half is
// replayed from it exactly as agents would meet it. The raw predictive CDF
// of each replayed order at its real prep time, per size class, gives the
// recalibration (FitCalibration); a second replay with it gives
// P(ready within d | elapsed) against outcome at the checkpoints below,
// per size class, for the decision maps (FitDecisions).
func FitHistory(rows []history.Row) (Fleet, error) {
	obs, models := observations(rows)
	fl, err := FitFleet(obs)
	if err != nil {
		return nil, err
	}
	fl.setOwn(ownCoefficients(models, func(string) bool { return true }))
	folds := crossFolds(rows, obs, models)
	var pits [CalibClasses][]float64
	for _, f := range folds {
		NewReplay(f.prior).Run(f.held, Hooks{Accept: func(i int, ft *Features, m *Model) {
			c := CalibClass(m.Learned())
			pits[c] = append(pits[c], m.Predict(ft).RawCDF(f.held[i].Prep()))
		}})
	}
	var calib [CalibClasses][]float64
	for c := 0; c < Classes; c++ { // none for the self-calibrated class
		calib[c] = FitCalibration(pits[c])
	}
	var dec [CalibClasses][]decisions
	for c := range dec {
		dec[c] = make([]decisions, len(DecisionHorizons))
	}
	for _, f := range folds {
		f.prior.SetCalibration(calib)
		NewReplay(f.prior).Run(f.held, Hooks{Accept: func(i int, ft *Features, m *Model) {
			addDecisions(dec[CalibClass(m.Learned())], m.Predict(ft), f.held[i].Prep())
		}})
	}
	var maps [CalibClasses][]DecisionMap
	for c := range dec {
		for _, d := range dec[c] {
			maps[c] = append(maps[c], FitDecisions(d.p, d.hit))
		}
	}
	fl.SetCalibration(calib)
	fl.SetDecisionMaps(maps)
	return fl, fl.Validate()
}

// fold is one half of the stores and the prior fitted on the other half.
type fold struct {
	held  []history.Row
	prior Fleet
}

func crossFolds(rows []history.Row, obs []Observation, models map[string]*Model) []fold {
	var out []fold
	for k := uint32(0); k < 2; k++ {
		var train []Observation
		for _, o := range obs {
			if storeFold(o.Store) != k {
				train = append(train, o)
			}
		}
		part, err := FitFleet(train)
		if err != nil {
			continue // too few orders outside the fold: no corrections from it
		}
		part.setOwn(ownCoefficients(models, func(st string) bool { return storeFold(st) != k }))
		f := fold{prior: part}
		for _, r := range rows {
			if storeFold(r.Store) == k {
				f.held = append(f.held, r)
			}
		}
		out = append(out, f)
	}
	return out
}

// fitElapsed are the elapsed times held-out orders are asked at for the
// decision maps, while still cooking, at each DecisionHorizons.
// The grid differs from the evaluation's so the maps are not fitted to it.
var fitElapsed = []time.Duration{0, time.Minute, 2 * time.Minute, 4 * time.Minute, 6 * time.Minute, 8 * time.Minute,
	10 * time.Minute, 15 * time.Minute, 20 * time.Minute, 30 * time.Minute}

// decisions are held-out probabilities (before any decision map) and
// whether each came true.
type decisions struct {
	p   []float64
	hit []bool
}

// addDecisions asks p at every fitElapsed the order is still cooking, one
// entry of ds per DecisionHorizons.
func addDecisions(ds []decisions, p Prediction, actual time.Duration) {
	for _, e := range fitElapsed {
		if actual <= e {
			return
		}
		for k, h := range DecisionHorizons {
			ds[k].p = append(ds[k].p, p.UnmappedPReady(e, h))
			ds[k].hit = append(ds[k].hit, actual <= e+h)
		}
	}
}

// observations are the orders of rows a model would learn, with the
// features the replay gives them (kitchen load at accept included), and
// each store's model after learning them all.
func observations(rows []history.Row) ([]Observation, map[string]*Model) {
	var obs []Observation
	rp := NewReplay(nil)
	rp.Run(rows, Hooks{Ready: func(i int, f *Features) {
		r := &rows[i]
		if p := r.Prep(); p >= MinPrep && p <= MaxPrep {
			obs = append(obs, Observation{Store: r.Store, Category: r.Category, City: r.City, Features: *f, LogPrep: math.Log(p.Seconds())})
		}
	}})
	return obs, rp.Models
}

// ownMinOrders is how many orders a store's model must have learned for
// its coefficients to count in the fleet's typical ones.
const ownMinOrders = 100

// ownCoefficients are, for the own regression's inputs the pooled prior
// does not have (SKU and station effort, distinct items, open items), the
// median coefficient over the stores in that have learned ownMinOrders:
// what a kitchen of the fleet typically learns them to be. Nil when no
// store qualifies.
func ownCoefficients(models map[string]*Model, in func(store string) bool) map[string]float64 {
	vals := map[string][]float64{}
	for st, m := range models {
		if !in(st) || m.Learned() < ownMinOrders {
			continue
		}
		c := m.Coefficients()
		for _, name := range ownOnly {
			vals[name] = append(vals[name], c[name])
		}
	}
	if len(vals) == 0 {
		return nil
	}
	out := map[string]float64{}
	for name, v := range vals {
		sort.Float64s(v)
		out[name] = min(max(v[len(v)/2], -maxBeta), maxBeta)
	}
	return out
}

func storeFold(store string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(store))
	return h.Sum32() % 2
}

// WriteFleet writes fl as indented JSON, the form `model fit` prints and
// the cloud publishes one category of.
func WriteFleet(w io.Writer, fl Fleet) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(fl)
}

// ReadFleet reads and validates a fleet prior written by WriteFleet.
func ReadFleet(r io.Reader) (Fleet, error) {
	var fl Fleet
	if err := json.NewDecoder(r).Decode(&fl); err != nil {
		return nil, fmt.Errorf("read fleet prior: %w", err)
	}
	if err := fl.Validate(); err != nil {
		return nil, err
	}
	return fl, nil
}
