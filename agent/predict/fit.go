package predict

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// Observation is one completed order of a fleet: the store, its category
// tag, what was known at accept, and its log prep time.
type Observation struct {
	Store    string
	Category string
	City     string // the store's city tag; may be empty
	Features Features
	LogPrep  float64
}

// Fleet is a prior per store category, with DefaultCategory for stores
// whose category has none.
type Fleet map[string]*Prior

// DefaultCategory is the key of the prior for stores of no known category.
const DefaultCategory = "default"

// For is the prior for a store of category c: its category's, else the
// fleet default, else DefaultPrior.
func (fl Fleet) For(c string) *Prior {
	if p := fl[c]; p != nil {
		return p
	}
	if p := fl[DefaultCategory]; p != nil {
		return p
	}
	return DefaultPrior()
}

// SetCalibration sets the size-class recalibration of every prior.
func (fl Fleet) SetCalibration(calib [CalibClasses][]float64) {
	for _, p := range fl {
		p.Calib = calib
	}
}

// setOwn sets the typical own-model coefficients of every prior.
func (fl Fleet) setOwn(own map[string]float64) {
	for _, p := range fl {
		p.Own = own
	}
}

// SetDecisionMaps sets the size-class decision maps of every prior.
func (fl Fleet) SetDecisionMaps(d [CalibClasses][]DecisionMap) {
	for _, p := range fl {
		p.Decide = d
	}
}

// Fit constants: the ridge on pooled coefficients, the pseudo-stores a
// category's offset and spread are shrunk with toward the fleet's, and the
// residual clip that keeps forgotten orders out of the spreads.
const (
	fitRidge    = 1.0
	fitCatPrior = 20.0
	fitClip     = 2.5
	minTau      = 0.05
)

// FitFleet fits the pooled part of a fleet prior from completed orders:
// a ridge regression of log prep time on the pooled inputs, refitted once
// after removing shrunken category and store offsets; Sigma is the spread
// of orders around their store, Tau of stores around their category,
// both measured on residuals clipped at ±2.5. It sets no recalibration:
// that must be measured on orders the fit has not seen.
func FitFleet(obs []Observation) (Fleet, error) {
	if len(obs) < 2*pdims {
		return nil, fmt.Errorf("fit fleet prior: %d orders, need at least %d", len(obs), 2*pdims)
	}
	xs := make([][pdims]float64, len(obs))
	for i := range obs {
		pooled(&obs[i].Features, &xs[i])
	}
	off := make([]float64, len(obs)) // category + store offset per order
	var beta [pdims]float64
	var g groups
	for iter := 0; iter < 2; iter++ {
		beta = ridge(xs, obs, off)
		g = groupResiduals(xs, obs, &beta)
		for i := range obs {
			off[i] = g.offset(obs[i].Store, obs[i].Category)
		}
	}
	fl := g.fleet(beta, len(obs))
	if cities := g.cityOffsets(obs); len(cities) > 0 {
		for _, p := range fl {
			p.Cities = cities
		}
	}
	return fl, nil
}

// fitCityPrior is how many pseudo-stores of offset 0 a city's offset is
// shrunk with: a city of 5 stores gets half its stores' mean offset.
const fitCityPrior = 5.0

// cityOffsets are, per city tag, the mean of its stores' shrunken offsets
// from their category, shrunk toward 0 with fitCityPrior pseudo-stores:
// how much slower or faster the city's kitchens are than their category
// elsewhere. None when no order has a city.
func (g *groups) cityOffsets(obs []Observation) map[string]float64 {
	cityOf := map[string]string{}
	for i := range obs {
		if obs[i].City != "" {
			cityOf[obs[i].Store] = obs[i].City
		}
	}
	sum, n := map[string]float64{}, map[string]float64{}
	for st, city := range cityOf {
		cat := g.storeOf[st]
		sum[city] += g.offset(st, cat) - g.catOffset(cat)
		n[city]++
	}
	out := map[string]float64{}
	for city, s := range sum {
		out[city] = min(max(s/(n[city]+fitCityPrior), -hierClip), hierClip)
	}
	return out
}

// ridge solves (XᵀX + λI) β = Xᵀ(y − off), the intercept unpenalised.
func ridge(xs [][pdims]float64, obs []Observation, off []float64) [pdims]float64 {
	a := make([]float64, pdims*pdims)
	b := make([]float64, pdims)
	for n, x := range xs {
		y := obs[n].LogPrep - off[n]
		for i := 0; i < pdims; i++ {
			b[i] += x[i] * y
			for j := 0; j <= i; j++ {
				a[i*pdims+j] += x[i] * x[j]
			}
		}
	}
	for i := 1; i < pdims; i++ {
		a[i*pdims+i] += fitRidge
	}
	var beta [pdims]float64
	cholSolve(a, b, pdims, beta[:])
	return beta
}

// groups are the residuals of a pooled fit summed by store and category.
type groups struct {
	stores  map[string]*moments
	cats    map[string]*moments // of store means, one per store
	catRes  map[string]*moments // of order residuals
	sigma2  float64
	tau2    float64
	storeOf map[string]string // store -> category
}

// moments are a count, sum and sum of squares.
type moments struct{ n, s, ss float64 }

func (m *moments) add(v float64) { m.n++; m.s += v; m.ss += v * v }
func (m *moments) mean() float64 { return m.s / max(m.n, 1) }

func groupResiduals(xs [][pdims]float64, obs []Observation, beta *[pdims]float64) groups {
	g := groups{stores: map[string]*moments{}, cats: map[string]*moments{}, catRes: map[string]*moments{}, storeOf: map[string]string{}}
	for n := range obs {
		r := obs[n].LogPrep
		for i, v := range xs[n] {
			r -= beta[i] * v
		}
		r = min(max(r, -fitClip), fitClip)
		st := g.stores[obs[n].Store]
		if st == nil {
			st = &moments{}
			g.stores[obs[n].Store] = st
			g.storeOf[obs[n].Store] = obs[n].Category
		}
		st.add(r)
		cr := g.catRes[obs[n].Category]
		if cr == nil {
			cr = &moments{}
			g.catRes[obs[n].Category] = cr
		}
		cr.add(r)
	}
	g.spreads()
	return g
}

// spreads estimates Sigma² (within stores) and Tau² (store means around
// their category mean, less the part their own noise explains).
func (g *groups) spreads() {
	within, dof := 0.0, 0.0
	for _, st := range g.stores {
		if st.n >= 2 {
			within += st.ss - st.s*st.s/st.n
			dof += st.n - 1
		}
	}
	g.sigma2 = within / max(dof, 1)
	between, nb := 0.0, 0.0
	for s, st := range g.stores {
		c := g.catRes[g.storeOf[s]].mean()
		d := st.mean() - c
		between += d*d - g.sigma2/st.n
		nb++
		cm := g.cats[g.storeOf[s]]
		if cm == nil {
			cm = &moments{}
			g.cats[g.storeOf[s]] = cm
		}
		cm.add(d*d - g.sigma2/st.n)
	}
	g.tau2 = max(between/max(nb, 1), minTau*minTau)
}

// catOffset is the category's mean residual shrunk toward 0.
func (g *groups) catOffset(c string) float64 {
	cr := g.catRes[c]
	if cr == nil {
		return 0
	}
	return cr.s / (cr.n + fitCatPrior)
}

// offset is the category offset plus the store's shrunken offset from it.
func (g *groups) offset(store, cat string) float64 {
	c := g.catOffset(cat)
	st := g.stores[store]
	if st == nil {
		return c
	}
	return c + (st.s-st.n*c)/(st.n+g.sigma2/g.tau2)
}

// catTau2 is the category's store spread, shrunk toward the fleet's.
func (g *groups) catTau2(c string) float64 {
	cm := g.cats[c]
	if cm == nil {
		return g.tau2
	}
	t := (cm.s + fitCatPrior*g.tau2) / (cm.n + fitCatPrior)
	return max(t, minTau*minTau)
}

func (g *groups) fleet(beta [pdims]float64, orders int) Fleet {
	fl := Fleet{}
	sigma := math.Sqrt(max(g.sigma2, minSigma*minSigma))
	fl[DefaultCategory] = &Prior{Version: PriorVersion, Category: DefaultCategory, Beta: beta, Sigma: sigma,
		Tau: math.Sqrt(g.tau2), Stores: len(g.stores), Orders: orders}
	cats := make([]string, 0, len(g.catRes))
	for c := range g.catRes {
		cats = append(cats, c)
	}
	sort.Strings(cats)
	for _, c := range cats {
		if c == "" || c == DefaultCategory {
			continue
		}
		b := beta
		b[0] += g.catOffset(c)
		fl[c] = &Prior{Version: PriorVersion, Category: c, Beta: b, Sigma: sigma, Tau: math.Sqrt(g.catTau2(c)),
			Stores: int(g.cats[c].n), Orders: int(g.catRes[c].n)}
	}
	return fl
}

// Validate checks every prior of the fleet.
func (fl Fleet) Validate() error {
	if len(fl) == 0 {
		return errors.New("fleet prior: no categories")
	}
	for c, p := range fl {
		if p == nil {
			return fmt.Errorf("fleet prior %q: empty", c)
		}
		if err := p.Validate(); err != nil {
			return fmt.Errorf("fleet prior %q: %w", c, err)
		}
	}
	return nil
}
