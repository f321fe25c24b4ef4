package predict

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"
)

// pdims is the length of the pooled feature vector a fleet prior is
// written in: only what every store has (no SKUs, no stations).
const pdims = 10

// pooledNames name the pooled inputs, in order.
var pooledNames = [pdims]string{"intercept", "log1p_items", "log1p_value", "value_missing",
	"hour_sin", "hour_cos", "hour2_sin", "hour2_cos", "weekend", "log1p_open_orders"}

// pooled builds the fleet prior's inputs for f.
func pooled(f *Features, x *[pdims]float64) {
	items := itemCount(f)
	v, missing := logValue(f)
	h := float64(f.At.Hour()) + float64(f.At.Minute())/60
	w := 0.0
	if d := f.At.Weekday(); d == time.Saturday || d == time.Sunday {
		w = 1
	}
	*x = [pdims]float64{1, math.Log1p(float64(items)), v, missing,
		math.Sin(2 * math.Pi * h / 24), math.Cos(2 * math.Pi * h / 24),
		math.Sin(4 * math.Pi * h / 24), math.Cos(4 * math.Pi * h / 24),
		w, math.Log1p(float64(f.OpenOrders))}
}

// Store-size classes: how many orders a store's model had learned when it
// was asked. Calibration is measured and corrected per class.
const Classes = 4

// classEdges are the lower bounds of the size classes: 0-9, 10-49, 50-199,
// 200 and more prior orders.
var classEdges = [Classes]int64{0, 10, 50, 200}

// Recalibration classes: the size classes with the open-ended one split at
// SelfCalibrated orders. From there a store's own out-of-sample residuals
// (thousands of them) carry its predictive distribution and no fleet
// recalibration is fitted or applied: correcting an already calibrated
// store again only moves it.
const (
	CalibClasses   = Classes + 1
	SelfCalibrated = 1000
)

// CalibClass is the recalibration class of a store that has learned n
// orders: its size class, or Classes from SelfCalibrated orders on.
func CalibClass(n int64) int {
	if n >= SelfCalibrated {
		return Classes
	}
	return Class(n)
}

// Class is the size class of a store that has learned n orders.
func Class(n int64) int {
	c := 0
	for i, lo := range classEdges {
		if n >= lo {
			c = i
		}
	}
	return c
}

// ClassName names size class c, e.g. "10-49".
func ClassName(c int) string {
	if c == Classes-1 {
		return fmt.Sprintf("%d+", classEdges[c])
	}
	return fmt.Sprintf("%d-%d", classEdges[c], classEdges[c+1]-1)
}

// Prior is what a fleet of stores knows about one store category before a
// store of it has any history: a pooled regression of log prep time on
// the pooled inputs, the spread of stores around it (Tau) and of orders
// around their store (Sigma), and per size class a recalibration of the
// predictive distribution measured on stores held out of the fit. It is
// published by the cloud and read by agents, so it is validated whole.
type Prior struct {
	Version  int    `json:"version"`
	Category string `json:"category"`
	// Beta are the pooled coefficients, in log-seconds, by pooledNames.
	Beta  [pdims]float64 `json:"beta"`
	Sigma float64        `json:"sigma"` // sd of an order's log prep time around its store
	Tau   float64        `json:"tau"`   // sd of a store's mean log prep time around Beta
	// Calib is, per recalibration class (CalibClass), G at CalibGrid: the
	// share of held-out orders whose raw predictive CDF at their real prep
	// time was at most the grid value. Empty for a class means no
	// correction.
	Calib [CalibClasses][]float64 `json:"calib"`
	// Decide is, per recalibration class, the map from P(ready within d |
	// elapsed) as recalibrated by Calib to how often such predictions
	// came true on held-out stores; it corrects the conditional
	// probabilities decisions are made on, which Calib (fitted at accept)
	// does not fully.
	// One map per DecisionHorizons, or none.
	Decide [CalibClasses][]DecisionMap `json:"decide"`
	// Cities are offsets of log prep time per city tag, relative to the
	// category, fitted from the stores of each city and shrunk toward 0 by
	// how few there are; a store of a city not listed gets none (ForCity).
	Cities map[string]float64 `json:"cities,omitempty"`
	// Own are what the fleet's kitchens typically learn the store model's
	// other inputs to weigh (SKU and station effort, distinct items, open
	// items), by input name: the store's ridge regression starts from them
	// instead of 0, so a new store uses its SKUs' efforts as soon as it
	// has seen them. Empty: 0.
	Own    map[string]float64 `json:"own,omitempty"`
	Stores int                `json:"stores"` // stores the prior was fitted on
	Orders int                `json:"orders"` // orders the prior was fitted on
}

// PriorVersion is the Prior format this build reads and writes.
const PriorVersion = 1

// DefaultPrior is the prior of a store with no fleet prior: about 7
// minutes for a one-item order in an idle kitchen, a little more per item
// and under load, with wide spreads and no recalibration.
func DefaultPrior() *Prior {
	return &Prior{Version: PriorVersion, Category: "", Beta: [pdims]float64{0: math.Log(340), 1: 0.35, 9: 0.1}, Sigma: 0.5, Tau: 0.5}
}

// Limits a prior must respect to be used.
const (
	maxSigma = 3.0
	minSigma = 0.02
	maxBeta  = 20.0
)

// Validate reports why p cannot be used, or nil.
func (p *Prior) Validate() error {
	if p.Version != PriorVersion {
		return fmt.Errorf("prior version %d, this build reads %d", p.Version, PriorVersion)
	}
	for i, b := range p.Beta {
		if !finite(b) || math.Abs(b) > maxBeta {
			return fmt.Errorf("prior beta %s = %v is out of range", pooledNames[i], b)
		}
	}
	if !finite(p.Sigma) || p.Sigma < minSigma || p.Sigma > maxSigma {
		return fmt.Errorf("prior sigma %v is not in [%v, %v]", p.Sigma, minSigma, maxSigma)
	}
	if !finite(p.Tau) || p.Tau < 0 || p.Tau > maxSigma {
		return fmt.Errorf("prior tau %v is not in [0, %v]", p.Tau, maxSigma)
	}
	for name, v := range p.Own {
		if !ownInput(name) || !finite(v) || math.Abs(v) > maxBeta {
			return fmt.Errorf("prior own coefficient %q = %v: unknown input or out of range", name, v)
		}
	}
	for c, v := range p.Cities {
		if !finite(v) || math.Abs(v) > hierClip || c == "" || len(c) > 64 {
			return fmt.Errorf("prior city offset %q = %v is out of range", c, v)
		}
	}
	for c, g := range p.Calib {
		if err := validCalib(g); err != nil {
			return fmt.Errorf("prior calibration of class %d: %w", c, err)
		}
		if n := len(p.Decide[c]); n != 0 && n != len(DecisionHorizons) {
			return fmt.Errorf("prior calibration of class %d: %d decision maps, want 0 or %d", c, n, len(DecisionHorizons))
		}
		for _, d := range p.Decide[c] {
			if err := d.validate(); err != nil {
				return fmt.Errorf("prior calibration of class %d: %w", c, err)
			}
		}
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// ParsePrior decodes and validates a prior published as JSON.
func ParsePrior(b []byte) (*Prior, error) {
	var p Prior
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("decode prior: %w", err)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return &p, nil
}

// ForCity is the prior for a store of city: p with the city's offset
// added to its intercept and no city table, or p itself when it has no
// offset for the city.
func (p *Prior) ForCity(city string) *Prior {
	off, ok := p.Cities[city]
	if !ok || off == 0 {
		return p
	}
	c := *p
	c.Beta[0] += off
	c.Cities = nil // applied: a second ForCity changes nothing
	return &c
}

// mean is the prior's expected log prep time for pooled inputs x, before
// the store's own effect.
func (p *Prior) mean(x *[pdims]float64) float64 {
	s := 0.0
	for i, v := range x {
		s += p.Beta[i] * v
	}
	return s
}

var errCalibShape = errors.New("calibration must be empty or non-decreasing values in [0,1] at every grid point")

// ownIndex maps the pooled inputs to the same inputs of the store's own
// regression, whose ridge pulls toward the prior's coefficients.
var ownIndex = [pdims]int{0: 0, 1: 1, 2: 14, 3: 15, 4: 9, 5: 10, 6: 11, 7: 12, 8: 13, 9: 6}

// ownBeta is the prior written as the own regression's coefficients;
// inputs the prior does not have (SKUs, stations, distinct items, open
// items) are 0.
func (p *Prior) ownBeta() [dims]float64 {
	var b [dims]float64
	for i, j := range ownIndex {
		b[j] = p.Beta[i]
	}
	for j, name := range featureNames {
		if v, ok := p.Own[name]; ok && ownInput(name) {
			b[j] = v
		}
	}
	return b
}

// ownOnly name the own regression's inputs the pooled prior does not have.
var ownOnly = []string{"log1p_distinct", "sku_effort_max", "sku_effort_mean", "station_effort", "log1p_open_items", "log1p_station_open"}

func ownInput(name string) bool {
	for _, n := range ownOnly {
		if n == name {
			return true
		}
	}
	return false
}
