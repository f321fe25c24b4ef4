package predict

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Bounds on what the model will learn from. A prep time outside them is a
// broken clock or a forgotten order and would only teach noise.
const (
	MinPrep = 10 * time.Second
	MaxPrep = 4 * time.Hour
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
}

// New returns a model holding only its priors: about 7 minutes for a
// one-item order with a spread of ×1.65, which the first few dozen
// completed orders replace.
func New() *Model {
	return &Model{enc: newEncodings(), res: newResiduals(), resLong: newResiduals()}
}

// Learned is how many completed orders the model has learned from.
func (m *Model) Learned() int64 { return m.learned }

// Predict answers for an order with features f. The Prediction reads the
// model's residual distribution: use it before the next Learn.
func (m *Model) Predict(f *Features) Prediction {
	var x [dims]float64
	m.vector(f, &x)
	mu := m.reg.predict(&x) + m.level
	return Prediction{mu: mu, res: m.resFor(mu)}
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
	"hour_sin", "hour_cos", "hour2_sin", "hour2_cos", "weekend"}

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

// state is the serialised form of a Model.
type state struct {
	Version int        `json:"version"`
	Learned int64      `json:"learned"`
	Reg     regression `json:"reg"`
	Enc     encodings  `json:"enc"`
	Res     residuals  `json:"res"`
	ResLong residuals  `json:"res_long"`
	Level   float64    `json:"level"`
}

const stateVersion = 1

// levelAlpha is how fast the recent-bias level follows the latest errors:
// a sudden ×1.4 slowdown (a cook missing) is mostly absorbed within 60
// orders, at a cost of under 1% MAE in a steady kitchen.
const levelAlpha = 0.03

// MarshalBinary encodes the model (as JSON) for the agent's state db.
func (m *Model) MarshalBinary() ([]byte, error) {
	return json.Marshal(state{Version: stateVersion, Learned: m.learned, Reg: m.reg, Enc: m.enc, Res: m.res, ResLong: m.resLong, Level: m.level})
}

// UnmarshalBinary restores a model saved by MarshalBinary. On error the
// model is left unchanged.
func (m *Model) UnmarshalBinary(b []byte) error {
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("decode model: %w", err)
	}
	if s.Version != stateVersion {
		return fmt.Errorf("decode model: version %d, this build reads %d", s.Version, stateVersion)
	}
	if len(s.Res.W) != resBins || len(s.ResLong.W) != resBins {
		return fmt.Errorf("decode model: residual histograms have %d and %d bins, want %d", len(s.Res.W), len(s.ResLong.W), resBins)
	}
	for _, v := range append(append(append(s.Res.W, s.ResLong.W...), s.Reg.A[:]...), s.Level, s.Res.Sum, s.ResLong.Sum) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("decode model: non-finite value")
		}
	}
	if s.Enc.SKU == nil {
		s.Enc.SKU = map[string]*running{}
	}
	if s.Enc.Stations == nil {
		s.Enc.Stations = map[string]*running{}
	}
	m.learned, m.reg, m.enc, m.res, m.level = s.Learned, s.Reg, s.Enc, s.Res, min(max(s.Level, -regClip), regClip)
	m.resLong = s.ResLong
	m.reg.fresh, m.res.cdf, m.resLong.cdf = false, nil, nil
	return nil
}
