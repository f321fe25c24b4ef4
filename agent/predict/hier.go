package predict

import "math"

// Store-effect limits.
const (
	hierMemory = 1000 // orders the store effect remembers
	hierClip   = 2.0  // a learned log prep time is clipped to the prior's mean ± this
)

// storeEffect is what a store's own orders say about it relative to a
// fleet prior, kept as decayed sums of the pooled inputs and of log prep
// time: since the prior's mean is linear, the store's mean residual
// against any prior is (Y − βᵀX)/N, so a new prior applies at once to the
// history already seen.
type storeEffect struct {
	X [pdims]float64 `json:"x"`
	Y float64        `json:"y"`
	N float64        `json:"n"`
}

func (s *storeEffect) learn(x *[pdims]float64, y float64) {
	if s.N >= hierMemory {
		k := 1 - 1.0/hierMemory
		for i := range s.X {
			s.X[i] *= k
		}
		s.Y *= k
		s.N *= k
	}
	for i, v := range x {
		s.X[i] += v
	}
	s.Y += y
	s.N++
}

// predict is the store's shrunken mean and predictive sd of log prep time
// for inputs x under prior p: the store's offset from the prior is its
// mean residual shrunk by N/(N + σ²/τ²), and its remaining uncertainty
// v = 1/(1/τ² + N/σ²) widens the spread of a store that has shown little.
func (s *storeEffect) predict(p *Prior, x *[pdims]float64) (mu, sd float64) {
	mu = p.mean(x)
	s2, t2 := p.Sigma*p.Sigma, p.Tau*p.Tau
	if t2 <= 0 {
		return mu, p.Sigma
	}
	resid := s.Y
	for i, v := range s.X {
		resid -= p.Beta[i] * v
	}
	k := s2 / t2
	mu += resid / (s.N + k)
	v := 1 / (1/t2 + s.N/s2)
	return mu, math.Sqrt(s2 + v)
}
