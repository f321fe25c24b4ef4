package modelcmd

import (
	"math/rand/v2"
	"sort"
	"testing"
)

func bruteMedian(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	k := len(s)
	if k%2 == 1 {
		return s[k/2]
	}
	return (s[k/2-1] + s[k/2]) / 2
}

func TestRollingMedianMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	r := newRollingMedian(7)
	var all []float64
	for i := 0; i < 500; i++ {
		v := float64(rng.IntN(50)) // many ties
		r.add(v)
		all = append(all, v)
		window := all[max(0, len(all)-7):]
		if got, want := r.median(-1), bruteMedian(window); got != want {
			t.Fatalf("step %d: median %v, want %v (window %v)", i, got, want, window)
		}
	}
}

func TestGlobalMedianMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	g := &globalMedian{}
	if g.median(42) != 42 {
		t.Fatal("empty median is not the default")
	}
	var all []float64
	for i := 0; i < 301; i++ {
		v := float64(60 + rng.IntN(1200))
		g.add(v)
		all = append(all, v)
	}
	sort.Float64s(all)
	if got, want := g.median(0), all[150]; got != want {
		t.Errorf("median %v, want %v", got, want)
	}
}
