package scale

import "math"

// Detector finds stable weights in a stream of readings and says when one
// should be published: once per stable change, never for an empty scale.
// It is a pure state machine with no clock. The zero value is not usable;
// use NewDetector.
type Detector struct {
	need      int     // consecutive readings that must agree
	tolerance float64 // grams within which readings agree
	min       float64 // below this a stable weight means an empty scale
	window    []float64
	last      float64
	published bool
}

// NewDetector returns a detector that calls a weight stable after need
// consecutive readings within tolerance grams of each other (each flagged
// stable when the scale reports status).
func NewDetector(need int, tolerance, minGrams float64) *Detector {
	if need < 1 {
		need = 1
	}
	return &Detector{need: need, tolerance: tolerance, min: minGrams}
}

// Add feeds a reading. It returns the stable weight, rounded to the gram,
// and publish=true when that weight is new: the first stable weight after
// the scale was empty, or one that differs from the last published by more
// than the tolerance. An empty scale (stable below the minimum) re-arms it,
// so the same bag weighed twice is published twice.
func (d *Detector) Add(r Reading) (grams float64, publish bool) {
	if r.Overload || (r.StatusKnown && !r.Stable) || math.IsNaN(r.Grams) {
		d.window = d.window[:0]
		return 0, false
	}
	d.window = append(d.window, r.Grams)
	if len(d.window) > d.need {
		d.window = d.window[len(d.window)-d.need:]
	}
	if len(d.window) < d.need {
		return 0, false
	}
	lo, hi, sum := d.window[0], d.window[0], 0.0
	for _, w := range d.window {
		lo, hi, sum = math.Min(lo, w), math.Max(hi, w), sum+w
	}
	if hi-lo > d.tolerance {
		return 0, false
	}
	w := math.Round(sum / float64(len(d.window)))
	if w < d.min {
		d.published = false
		return w, false
	}
	if d.published && math.Abs(w-d.last) <= d.tolerance {
		return w, false
	}
	d.last, d.published = w, true
	return w, true
}
