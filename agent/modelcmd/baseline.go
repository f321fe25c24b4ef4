package modelcmd

import (
	"sort"
)

// rollingMedian is the median of the last n values, kept as a ring (for
// age) and a sorted copy (for the median).
type rollingMedian struct {
	n      int
	ring   []float64
	next   int
	sorted []float64
}

func newRollingMedian(n int) *rollingMedian { return &rollingMedian{n: n} }

func (r *rollingMedian) add(v float64) {
	if len(r.ring) < r.n {
		r.ring = append(r.ring, v)
	} else {
		old := r.ring[r.next]
		r.ring[r.next] = v
		r.next = (r.next + 1) % r.n
		i := sort.SearchFloat64s(r.sorted, old)
		r.sorted = append(r.sorted[:i], r.sorted[i+1:]...)
	}
	i := sort.SearchFloat64s(r.sorted, v)
	r.sorted = append(r.sorted, 0)
	copy(r.sorted[i+1:], r.sorted[i:])
	r.sorted[i] = v
}

func (r *rollingMedian) count() int { return len(r.sorted) }

// median returns the median, or def when empty.
func (r *rollingMedian) median(def float64) float64 {
	k := len(r.sorted)
	if k == 0 {
		return def
	}
	if k%2 == 1 {
		return r.sorted[k/2]
	}
	return (r.sorted[k/2-1] + r.sorted[k/2]) / 2
}

// globalMedian is the exact median of every value so far, to the second,
// over a histogram of whole seconds (values are capped at maxSec).
type globalMedian struct {
	bins []int
	n    int
}

const maxSec = 4 * 3600

func (g *globalMedian) add(v float64) {
	if g.bins == nil {
		g.bins = make([]int, maxSec+1)
	}
	g.bins[min(max(int(v+0.5), 0), maxSec)]++
	g.n++
}

func (g *globalMedian) median(def float64) float64 {
	if g.n == 0 {
		return def
	}
	half, s := (g.n+1)/2, 0
	for i, c := range g.bins {
		if s += c; s >= half {
			return float64(i)
		}
	}
	return def
}

// Baseline windows and the prior when a store has no history yet.
const (
	storeWindow  = 200
	bucketWindow = 100
	bucketMinN   = 10
	defaultPrepS = 480
)

// bucketKey groups a store's orders by size and load: the comparison
// method "per-store, per-size, per-load bucketed median".
type bucketKey struct {
	store      string
	size, load int
}

func sizeBucket(items int) int {
	switch {
	case items <= 1:
		return 0
	case items == 2:
		return 1
	case items <= 4:
		return 2
	default:
		return 3
	}
}

func loadBucket(open int) int {
	switch {
	case open == 0:
		return 0
	case open <= 2:
		return 1
	case open <= 5:
		return 2
	case open <= 9:
		return 3
	default:
		return 4
	}
}
