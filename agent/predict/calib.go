package predict

import (
	"errors"
	"math"
	"sort"
	"time"
)

// CalibGrid are the raw CDF values at which a recalibration is tabulated:
// Φ(z) for z from -3.5 to 3.5 in steps of 0.25, dense in the tails where
// "ready within d" is decided for late orders.
var CalibGrid = func() []float64 {
	var g []float64
	for z := -3.5; z <= 3.5+1e-9; z += 0.25 {
		g = append(g, normCDF(z))
	}
	return g
}()

// calibSmooth is how many pseudo-observations of "already calibrated" a
// recalibration starts from, so a thin class is corrected a little only.
const calibSmooth = 50

func validCalib(g []float64) error {
	if len(g) == 0 {
		return nil
	}
	if len(g) != len(CalibGrid) {
		return errCalibShape
	}
	prev := 0.0
	for _, v := range g {
		if !finite(v) || v < prev || v > 1 {
			return errCalibShape
		}
		prev = v
	}
	return nil
}

// FitCalibration tabulates the recalibration G from probability integral
// transforms: the raw predictive CDF of held-out orders at their real prep
// time. G(u) is the share of them at most u, smoothed toward u; the
// corrected CDF G(F(t)) is then calibrated on that population. It returns
// nil (no correction) for no samples.
func FitCalibration(pit []float64) []float64 {
	if len(pit) == 0 {
		return nil
	}
	s := append([]float64(nil), pit...)
	sort.Float64s(s)
	n := float64(len(s))
	g := make([]float64, len(CalibGrid))
	for i, u := range CalibGrid {
		k := float64(sort.SearchFloat64s(s, math.Nextafter(u, 2))) // count ≤ u
		g[i] = (k + calibSmooth*u) / (n + calibSmooth)
	}
	return g
}

// recalibrate is G(u) for table g, linear between grid points, with
// G(0) = 0 and G(1) = 1. An empty table is the identity.
func recalibrate(g []float64, u float64) float64 {
	if len(g) == 0 {
		return u
	}
	i := sort.SearchFloat64s(CalibGrid, u) // first grid point ≥ u
	x0, y0, x1, y1 := 0.0, 0.0, 1.0, 1.0
	if i > 0 {
		x0, y0 = CalibGrid[i-1], g[i-1]
	}
	if i < len(CalibGrid) {
		x1, y1 = CalibGrid[i], g[i]
	}
	if x1 <= x0 {
		return y1
	}
	return min(max(y0+(u-x0)/(x1-x0)*(y1-y0), 0), 1)
}

// DecisionMap recalibrates P(ready within d | elapsed) itself: at the
// mean predicted probability X[i] of a band of held-out decisions, Y[i] is
// how often they came true (smoothed toward X[i], made non-decreasing).
// It is linear between points, with (0,0) and (1,1) at the ends; empty is
// the identity.
type DecisionMap struct {
	X []float64 `json:"x"`
	Y []float64 `json:"y"`
}

// decisionBands is how many equal bands of P a DecisionMap is fitted in.
const decisionBands = 20

func (d *DecisionMap) validate() error {
	if len(d.X) != len(d.Y) || len(d.X) > decisionBands {
		return errors.New("decision map: x and y must be as long, at most 20 points")
	}
	px, py := 0.0, 0.0
	for i := range d.X {
		if !finite(d.X[i]) || !finite(d.Y[i]) || d.X[i] <= px || d.X[i] >= 1 || d.Y[i] < py || d.Y[i] > 1 {
			return errors.New("decision map: x must increase inside (0,1) and y must not decrease inside [0,1]")
		}
		px, py = d.X[i], d.Y[i]
	}
	return nil
}

// apply is the recalibrated probability for a predicted p.
func (d *DecisionMap) apply(p float64) float64 {
	if d == nil || len(d.X) == 0 {
		return p
	}
	i := sort.SearchFloat64s(d.X, p)
	x0, y0, x1, y1 := 0.0, 0.0, 1.0, 1.0
	if i > 0 {
		x0, y0 = d.X[i-1], d.Y[i-1]
	}
	if i < len(d.X) {
		x1, y1 = d.X[i], d.Y[i]
	}
	return min(max(y0+(p-x0)/(x1-x0)*(y1-y0), 0), 1)
}

// FitDecisions fits a DecisionMap from held-out decisions: predicted
// probabilities p and whether each came true. Each band's rate is
// smoothed toward its mean prediction with calibSmooth pseudo-decisions
// and lowered by one standard error, so a band seen little is trusted
// little (a rider told "ready soon" on thin evidence waits), then pooled
// with its neighbours where it would decrease (pool adjacent violators).
func FitDecisions(p []float64, hit []bool) DecisionMap {
	var n, ps, hs [decisionBands]float64
	for i, v := range p {
		b := min(max(int(v*decisionBands), 0), decisionBands-1)
		n[b]++
		ps[b] += v
		if hit[i] {
			hs[b]++
		}
	}
	type block struct{ x, y, w float64 }
	var blocks []block
	for b := range n {
		if n[b] == 0 {
			continue
		}
		x := ps[b] / n[b]
		if x <= 0 || x >= 1 {
			continue
		}
		w := n[b] + calibSmooth
		y := (hs[b] + calibSmooth*x) / w
		blk := block{x: x, y: max(y-math.Sqrt(y*(1-y)/w), 0), w: w}
		blocks = append(blocks, blk)
		for len(blocks) > 1 && blocks[len(blocks)-2].y > blocks[len(blocks)-1].y {
			a, c := blocks[len(blocks)-2], blocks[len(blocks)-1]
			blocks = blocks[:len(blocks)-2]
			w := a.w + c.w
			blocks = append(blocks, block{x: (a.x*a.w + c.x*c.w) / w, y: (a.y*a.w + c.y*c.w) / w, w: w})
		}
	}
	var d DecisionMap
	for _, b := range blocks {
		d.X, d.Y = append(d.X, b.x), append(d.Y, b.y)
	}
	return d
}

// DecisionHorizons are the horizons d a prior's decision maps are fitted
// at, one map each; a horizon between two uses both, weighted by distance.
var DecisionHorizons = []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute, 5 * time.Minute,
	10 * time.Minute, 15 * time.Minute, 20 * time.Minute}

// mapAt applies the decision maps ms (one per DecisionHorizons, or none)
// to p predicted for horizon d.
func mapAt(ms []DecisionMap, d time.Duration, p float64) float64 {
	if len(ms) != len(DecisionHorizons) {
		return p
	}
	i := sort.Search(len(DecisionHorizons), func(i int) bool { return DecisionHorizons[i] >= d })
	switch {
	case i == 0:
		return ms[0].apply(p)
	case i == len(DecisionHorizons):
		return ms[i-1].apply(p)
	}
	lo, hi := DecisionHorizons[i-1], DecisionHorizons[i]
	f := float64(d-lo) / float64(hi-lo)
	return (1-f)*ms[i-1].apply(p) + f*ms[i].apply(p)
}
