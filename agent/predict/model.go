package predict

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/passline/passline/history"
)

// Bounds on what the model will learn from. A prep time outside them is a
// broken clock or a forgotten order and would only teach noise.
const (
	MinPrep = 10 * time.Second
	MaxPrep = history.MaxPrep
)

// Model is one store's prep-time model. It is not safe for concurrent use:
// the caller serialises Predict and Learn (the agent does both on its
// writer goroutine). The zero value is not usable; call New.
type Model struct {
	reg     regression
	enc     encodings
	res     residuals
	resLong residuals // residuals of orders predicted longer than the store's mean
	learned int64
	level   float64 // recent bias: EWMA of the latest completed orders' residuals
	prior   *Prior  // the fleet's prior for the store's category
	store   storeEffect
}

// mixOrders sets how the predictive distribution moves from the fleet
// prior (shrunk toward the store's data) to the store's own model: the
// prior's weight is (mixOrders/(n+mixOrders))² after n learned orders,
// 3/4 at 20, 1/4 at 60, 5% at 200, nothing at thousands. The own model
// has 14 inputs; at about four orders per input it leads.
const mixOrders = 60

// New returns a model holding only its priors: about 7 minutes for a
// one-item order with a spread of ×1.65, which the first few dozen
// completed orders replace.
func New() *Model {
	m := &Model{enc: newEncodings(), res: newResiduals(), resLong: newResiduals(), prior: DefaultPrior()}
	m.reg.setPrior(m.prior.ownBeta())
	return m
}

// NewWithPrior returns a model that starts from a fleet prior (see
// SetPrior).
func NewWithPrior(p *Prior) (*Model, error) {
	m := New()
	if err := m.SetPrior(p); err != nil {
		return nil, err
	}
	return m, nil
}

// SetPrior replaces the fleet prior after validating it; on error the
// model keeps the one it had. What the store has learned is kept: its
// effect against the new prior is computed from the same sums.
func (m *Model) SetPrior(p *Prior) error {
	if p == nil {
		return errors.New("set prior: nil prior")
	}
	if err := p.Validate(); err != nil {
		return fmt.Errorf("set prior: %w", err)
	}
	c := *p
	for i := range c.Calib {
		c.Calib[i] = append([]float64(nil), p.Calib[i]...)
		c.Decide[i] = nil
		for _, d := range p.Decide[i] {
			c.Decide[i] = append(c.Decide[i], DecisionMap{X: append([]float64(nil), d.X...), Y: append([]float64(nil), d.Y...)})
		}
	}
	m.prior = &c
	m.reg.setPrior(c.ownBeta())
	return nil
}

// Prior is the fleet prior the model starts from (DefaultPrior when none
// was set). The caller must not modify it.
func (m *Model) Prior() *Prior { return m.prior }

// Learned is how many completed orders the model has learned from.
func (m *Model) Learned() int64 { return m.learned }

// Predict answers for an order with features f. The Prediction reads the
// model's residual distribution: use it before the next Learn.
func (m *Model) Predict(f *Features) Prediction {
	var x [dims]float64
	m.vector(f, &x)
	mu := m.reg.predict(&x) + m.level
	var px [pdims]float64
	pooled(f, &px)
	hmu, hsd := m.store.predict(m.prior, &px)
	h := mixOrders / (float64(m.learned) + mixOrders)
	return Prediction{mu: mu, res: m.resFor(mu), hmu: hmu, hsd: hsd, w: 1 - h*h,
		calib: m.prior.Calib[CalibClass(m.learned)], decide: m.prior.Decide[CalibClass(m.learned)]}
}

// Learn updates the model with a completed order that took prep from
// accept to ready. The residual is measured before the update, so the
// probability distribution is made of honest out-of-sample errors. Prep
// times outside [MinPrep, MaxPrep] are ignored and reported as false.
func (m *Model) Learn(f *Features, prep time.Duration) bool {
	if prep < MinPrep || prep > MaxPrep {
		return false
	}
	y := math.Log(prep.Seconds())
	var x [dims]float64
	m.vector(f, &x)
	base := m.reg.predict(&x)
	mu := base + m.level
	m.resFor(mu).add(y - mu)
	m.reg.learn(&x, base+min(max(y-base, -regClip), regClip))
	m.level += levelAlpha * (min(max(y-mu, -regClip), regClip))
	m.enc.learn(f, y)
	var px [pdims]float64
	pooled(f, &px)
	pm := m.prior.mean(&px)
	m.store.learn(&px, min(max(y, pm-hierClip), pm+hierClip))
	m.learned++
	return true
}

// resFor is the residual distribution for a prediction of mu: orders
// predicted longer than the store's mean have their own, since a kitchen's
// long orders (queues) err differently from its quick ones.
func (m *Model) resFor(mu float64) *residuals {
	if m.enc.Store.N > 0 && mu > m.enc.Store.Mean {
		return &m.resLong
	}
	return &m.res
}

// featureNames name the regression inputs, for Coefficients.
var featureNames = [dims]string{"intercept", "log1p_items", "log1p_distinct", "sku_effort_max", "sku_effort_mean",
	"station_effort", "log1p_open_orders", "log1p_open_items", "log1p_station_open",
	"hour_sin", "hour_cos", "hour2_sin", "hour2_cos", "weekend", "log1p_value", "value_missing"}

// Coefficients returns the regression's current weights by input name, in
// log-seconds per unit of each input: a diagnostic for people and tests.
func (m *Model) Coefficients() map[string]float64 {
	if !m.reg.fresh {
		m.reg.solve()
	}
	out := make(map[string]float64, dims)
	for i, name := range featureNames {
		out[name] = m.reg.beta[i]
	}
	return out
}

// state is the serialised form of a Model. Version 1 (before fleet
// priors) has no Prior and no Store; it loads with the default prior and
// an empty store effect, which carries little weight in a model that has
// learned many orders.
type state struct {
	Version int         `json:"version"`
	Learned int64       `json:"learned"`
	Reg     regression  `json:"reg"`
	Enc     encodings   `json:"enc"`
	Res     residuals   `json:"res"`
	ResLong residuals   `json:"res_long"`
	Level   float64     `json:"level"`
	Prior   *Prior      `json:"prior,omitempty"`
	Store   storeEffect `json:"store"`
}

const stateVersion = 2

// levelAlpha is how fast the recent-bias level follows the latest errors:
// a sudden ×1.4 slowdown (a cook missing) is mostly absorbed within 60
// orders, at a cost of under 1% MAE in a steady kitchen.
const levelAlpha = 0.03

// MarshalBinary encodes the model (as JSON) for the agent's state db.
func (m *Model) MarshalBinary() ([]byte, error) {
	return json.Marshal(state{Version: stateVersion, Learned: m.learned, Reg: m.reg, Enc: m.enc, Res: m.res, ResLong: m.resLong,
		Level: m.level, Prior: m.prior, Store: m.store})
}

// UnmarshalBinary restores a model saved by MarshalBinary, of this or the
// previous version. On error the model is left unchanged.
func (m *Model) UnmarshalBinary(b []byte) error {
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("decode model: %w", err)
	}
	if s.Version != stateVersion && s.Version != 1 {
		return fmt.Errorf("decode model: version %d, this build reads 1 and %d", s.Version, stateVersion)
	}
	if len(s.Res.W) != resBins || len(s.ResLong.W) != resBins {
		return fmt.Errorf("decode model: residual histograms have %d and %d bins, want %d", len(s.Res.W), len(s.ResLong.W), resBins)
	}
	vals := append(append(append(s.Res.W, s.ResLong.W...), s.Reg.A[:]...), s.Level, s.Res.Sum, s.ResLong.Sum, s.Store.Y, s.Store.N)
	for _, v := range append(vals, s.Store.X[:]...) {
		if !finite(v) {
			return fmt.Errorf("decode model: non-finite value")
		}
	}
	if s.Version == 1 {
		s.Reg.migrateV1()
	}
	if s.Prior == nil {
		s.Prior = DefaultPrior()
	}
	if err := s.Prior.Validate(); err != nil {
		return fmt.Errorf("decode model: %w", err)
	}
	if s.Store.N < 0 {
		s.Store = storeEffect{}
	}
	if s.Enc.SKU == nil {
		s.Enc.SKU = map[string]*running{}
	}
	if s.Enc.Stations == nil {
		s.Enc.Stations = map[string]*running{}
	}
	m.learned, m.reg, m.enc, m.res, m.level = s.Learned, s.Reg, s.Enc, s.Res, min(max(s.Level, -regClip), regClip)
	m.resLong, m.prior, m.store = s.ResLong, s.Prior, s.Store
	m.reg.setPrior(m.prior.ownBeta())
	m.res.cdf, m.resLong.cdf = nil, nil
	return nil
}
