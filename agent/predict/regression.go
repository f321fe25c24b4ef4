package predict

import "math"

// Regression limits.
const (
	regMemory = 4000 // completed orders the regression remembers
	regRidge  = 2.0  // pull toward the prior's coefficients, in pseudo-orders
	regClip   = 1.0  // learning clips |residual| to this many log-seconds
)

// regression is ridge-regularised least squares on log prep time, kept as
// exponentially decayed normal equations so it adapts as a kitchen changes.
type regression struct {
	A     [dims * dims]float64 `json:"a"` // Σ x xᵀ, decayed
	B     [dims]float64        `json:"b"` // Σ x y, decayed
	N     float64              `json:"n"` // decayed count
	beta  [dims]float64
	prior [dims]float64 // what the ridge pulls toward
	fresh bool          // beta solves the current A, B and prior
}

// setPrior sets the coefficients the ridge pulls toward.
func (g *regression) setPrior(b [dims]float64) {
	g.prior, g.fresh = b, false
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

// solve computes beta = (A + λI)⁻¹ (B + λ β0). A is kept in its lower
// triangle.
func (g *regression) solve() {
	l := g.A
	var rhs [dims]float64
	for i := 0; i < dims; i++ {
		l[i*dims+i] += regRidge
		rhs[i] = g.B[i] + regRidge*g.prior[i]
	}
	cholSolve(l[:], rhs[:], dims, g.beta[:])
	g.fresh = true
}

// cholSolve solves a x = rhs for a symmetric positive definite n×n matrix
// given by its lower triangle (row-major), by Cholesky decomposition; a is
// overwritten. A pivot that vanishes is held at a tiny positive value.
func cholSolve(a, rhs []float64, n int, x []float64) {
	for j := 0; j < n; j++ {
		d := a[j*n+j]
		for k := 0; k < j; k++ {
			d -= a[j*n+k] * a[j*n+k]
		}
		d = math.Sqrt(max(d, 1e-12))
		a[j*n+j] = d
		for i := j + 1; i < n; i++ {
			s := a[i*n+j]
			for k := 0; k < j; k++ {
				s -= a[i*n+k] * a[j*n+k]
			}
			a[i*n+j] = s / d
		}
	}
	z := make([]float64, n)
	for i := 0; i < n; i++ { // L z = rhs
		s := rhs[i]
		for k := 0; k < i; k++ {
			s -= a[i*n+k] * z[k]
		}
		z[i] = s / a[i*n+i]
	}
	for i := n - 1; i >= 0; i-- { // Lᵀ x = z
		s := z[i]
		for k := i + 1; k < n; k++ {
			s -= a[k*n+i] * x[k]
		}
		x[i] = s / a[i*n+i]
	}
}

// dimsV1 is the input count of version 1 models, which had no order value.
const dimsV1 = 14

// migrateV1 re-lays a version 1 regression, decoded into this one's
// arrays (its 14×14 matrix fills the first 196 cells row-major), on this
// version's 16 inputs: the value inputs start with no observations.
func (g *regression) migrateV1() {
	old := g.A
	g.A = [dims * dims]float64{}
	for i := 0; i < dimsV1; i++ {
		for j := 0; j <= i; j++ {
			g.A[i*dims+j] = old[i*dimsV1+j]
		}
	}
}
