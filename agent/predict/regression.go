package predict

import "math"

// Regression limits.
const (
	regMemory = 4000 // completed orders the regression remembers
	regRidge  = 2.0  // pull toward the prior coefficients, in pseudo-orders
	regClip   = 1.0  // learning clips |residual| to this many log-seconds
)

// priorBeta is the model before any history: about 7 minutes for a
// one-item order in an idle kitchen, 8 for two, 9 for three, a little more
// under load. Everything else starts at zero and is learned.
var priorBeta = [dims]float64{0: math.Log(340), 1: 0.35, 6: 0.1}

// regression is ridge-regularised least squares on log prep time, kept as
// exponentially decayed normal equations so it adapts as a kitchen changes.
type regression struct {
	A     [dims * dims]float64 `json:"a"` // Σ x xᵀ, decayed
	B     [dims]float64        `json:"b"` // Σ x y, decayed
	N     float64              `json:"n"` // decayed count
	beta  [dims]float64
	fresh bool // beta solves the current A, B
}

func (g *regression) predict(x *[dims]float64) float64 {
	if !g.fresh {
		g.solve()
	}
	s := 0.0
	for i, v := range x {
		s += g.beta[i] * v
	}
	return s
}

func (g *regression) learn(x *[dims]float64, y float64) {
	k := 1.0
	if g.N >= regMemory {
		k = 1 - 1.0/regMemory
		g.N *= k
	}
	g.N++
	for i := 0; i < dims; i++ {
		g.B[i] = g.B[i]*k + x[i]*y
		row := g.A[i*dims : (i+1)*dims]
		for j := 0; j <= i; j++ {
			row[j] = row[j]*k + x[i]*x[j]
		}
	}
	g.fresh = false
}

// solve computes beta = (A + λI)⁻¹ (B + λ β0) by Cholesky decomposition.
// A is kept in its lower triangle.
func (g *regression) solve() {
	var l [dims * dims]float64
	var rhs [dims]float64
	for i := 0; i < dims; i++ {
		for j := 0; j <= i; j++ {
			l[i*dims+j] = g.A[i*dims+j]
		}
		l[i*dims+i] += regRidge
		rhs[i] = g.B[i] + regRidge*priorBeta[i]
	}
	for j := 0; j < dims; j++ {
		d := l[j*dims+j]
		for k := 0; k < j; k++ {
			d -= l[j*dims+k] * l[j*dims+k]
		}
		if d <= 1e-12 {
			d = 1e-12
		}
		d = math.Sqrt(d)
		l[j*dims+j] = d
		for i := j + 1; i < dims; i++ {
			s := l[i*dims+j]
			for k := 0; k < j; k++ {
				s -= l[i*dims+k] * l[j*dims+k]
			}
			l[i*dims+j] = s / d
		}
	}
	var z [dims]float64
	for i := 0; i < dims; i++ { // L z = rhs
		s := rhs[i]
		for k := 0; k < i; k++ {
			s -= l[i*dims+k] * z[k]
		}
		z[i] = s / l[i*dims+i]
	}
	for i := dims - 1; i >= 0; i-- { // Lᵀ beta = z
		s := z[i]
		for k := i + 1; k < dims; k++ {
			s -= l[k*dims+i] * g.beta[k]
		}
		g.beta[i] = s / l[i*dims+i]
	}
	g.fresh = true
}
