package predict_test

import (
	"math"
	"testing"
	"time"
)

// TestAdaptsToAShift: a kitchen suddenly short of staff (every order 40%
// slower, load unchanged) is tracked within a shift's worth of orders, not
// after the regression's whole memory.
func TestAdaptsToAShift(t *testing.T) {
	s := newSynth(8)
	m := trained(s, 3000)
	s.base += math.Log(1.4)
	at := time.Date(2026, 4, 2, 12, 0, 0, 0, time.UTC)
	errAt := func() float64 {
		sum := 0.0
		for i := 0; i < 200; i++ {
			f := s.features(at)
			sum += math.Log(m.Predict(&f).Median().Seconds()) - s.mean(&f)
		}
		return sum / 200
	}
	before := errAt()
	for i := 0; i < 60; i++ {
		f := s.features(at)
		m.Learn(&f, s.prep(&f))
	}
	after := errAt()
	t.Logf("log bias right after the shift %.3f, after 60 orders %.3f", before, after)
	if math.Abs(after) > 0.12 {
		t.Errorf("after 60 orders of a ×1.4 shift the median is still off by ×%.2f", math.Exp(after))
	}
}
