package predict

import "math"

// Residual histogram geometry, in log-seconds: residuals beyond ±resSpan
// land in the end bins (so the tail keeps its mass).
const (
	resBins   = 320
	resSpan   = 4.0
	resWidth  = 2 * resSpan / resBins
	resMemory = 3000 // completed orders the distribution remembers
	resPrior  = 30   // pseudo-orders of the prior shape
	priorSD   = 0.5  // prior residual spread in log-seconds (about ×1.65)
)

// residuals is the empirical distribution of out-of-sample errors of log
// prep time (actual minus predicted before the order was learned). It
// forgets old orders with weight 1/resMemory per update.
type residuals struct {
	W   []float64 `json:"w"` // weight per bin
	Sum float64   `json:"sum"`
	cdf []float64 // cumulative weight at each bin's upper edge; nil when stale
}

func newResiduals() residuals {
	r := residuals{W: make([]float64, resBins)}
	for i := range r.W {
		lo, hi := binEdge(i), binEdge(i+1)
		r.W[i] = resPrior * (normCDF(hi/priorSD) - normCDF(lo/priorSD))
		r.Sum += r.W[i]
	}
	return r
}

func binEdge(i int) float64 { return -resSpan + float64(i)*resWidth }

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

func (r *residuals) add(res float64) {
	i := int(math.Floor((res + resSpan) / resWidth))
	i = min(max(i, 0), resBins-1)
	if r.Sum >= resMemory {
		k := 1 - 1.0/resMemory
		for j := range r.W {
			r.W[j] *= k
		}
		r.Sum *= k
	}
	r.W[i]++
	r.Sum++
	r.cdf = nil
}

func (r *residuals) cumulative() []float64 {
	if r.cdf != nil {
		return r.cdf
	}
	c := make([]float64, resBins)
	s := 0.0
	for i, w := range r.W {
		s += w
		c[i] = s
	}
	r.cdf = c
	return c
}

// F is the probability that a residual is at most x, linear inside bins.
func (r *residuals) F(x float64) float64 {
	if r.Sum <= 0 {
		return normCDF(x / priorSD)
	}
	c := r.cumulative()
	pos := (x + resSpan) / resWidth
	if pos <= 0 {
		return 0
	}
	if pos >= resBins {
		return 1
	}
	i := int(pos)
	below := 0.0
	if i > 0 {
		below = c[i-1]
	}
	return (below + (pos-float64(i))*r.W[i]) / r.Sum
}

// Q is the residual at cumulative probability p, the inverse of F.
func (r *residuals) Q(p float64) float64 {
	if r.Sum <= 0 {
		return priorSD * math.Sqrt2 * math.Erfinv(2*p-1)
	}
	c := r.cumulative()
	target := min(max(p, 0), 1) * r.Sum
	lo, hi := 0, resBins-1
	for lo < hi { // first bin whose cumulative weight reaches target
		mid := (lo + hi) / 2
		if c[mid] < target {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	below := 0.0
	if lo > 0 {
		below = c[lo-1]
	}
	frac := 0.5
	if r.W[lo] > 0 {
		frac = (target - below) / r.W[lo]
	}
	return binEdge(lo) + min(max(frac, 0), 1)*resWidth
}
