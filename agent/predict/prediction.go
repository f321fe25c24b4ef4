package predict

import (
	"math"
	"time"
)

// Prediction is the model's answer for one order: a distribution of its
// prep time T, measured from accept. It is valid until the model's next
// Learn.
//
// The distribution is a mixture of the store's own model (log-prep
// regression plus its empirical residuals), with weight w, and the fleet
// prior shrunk toward the store's data (log-normal with mean hmu and sd
// hsd), with weight 1 − w; the mixture's CDF is then recalibrated by the
// prior's table for the store's size class.
type Prediction struct {
	mu     float64 // own model: predicted log-seconds
	res    *residuals
	hmu    float64 // fleet prior shrunk to the store: mean log-seconds
	hsd    float64 // and its predictive sd
	w      float64 // weight of the own model
	calib  []float64
	decide []DecisionMap
}

// RawCDF is the predictive P(T ≤ t) before the size-class recalibration:
// its value at the real prep time of held-out orders is what a
// recalibration is fitted on (FitCalibration).
func (p Prediction) RawCDF(t time.Duration) float64 {
	if t <= 0 {
		return 0
	}
	lt := math.Log(t.Seconds())
	own := 0.0
	if p.w > 0 {
		own = p.res.F(lt - p.mu)
	}
	return p.w*own + (1-p.w)*normCDF((lt-p.hmu)/p.hsd)
}

func (p Prediction) cdf(t time.Duration) float64 {
	return recalibrate(p.calib, p.RawCDF(t))
}

// quantile inverts cdf by bisection on log time between 1 s and MaxPrep.
func (p Prediction) quantile(q float64) time.Duration {
	lo, hi := 0.0, math.Log(MaxPrep.Seconds())
	if p.cdf(MaxPrep) <= q {
		return MaxPrep
	}
	for i := 0; i < 40; i++ {
		mid := (lo + hi) / 2
		if p.cdf(time.Duration(math.Exp(mid)*float64(time.Second))) < q {
			lo = mid
		} else {
			hi = mid
		}
	}
	return time.Duration(math.Exp((lo+hi)/2) * float64(time.Second))
}

// Median is the predicted prep time from accept: the value that minimises
// the expected absolute error.
func (p Prediction) Median() time.Duration { return p.quantile(0.5) }

// Quantile is the prep time from accept that the order beats with
// probability q, given it has already been cooking for elapsed.
func (p Prediction) Quantile(q float64, elapsed time.Duration) time.Duration {
	f0 := p.cdf(elapsed)
	if f0 >= 1-1e-9 {
		return elapsed + p.tailRemaining(q)
	}
	t := p.quantile(f0 + min(max(q, 0), 1)*(1-f0))
	return max(t, elapsed)
}

// Remaining is the median remaining prep time for an order that has been
// cooking for elapsed: half of such orders are ready within it.
func (p Prediction) Remaining(elapsed time.Duration) time.Duration {
	return p.Quantile(0.5, elapsed) - elapsed
}

// PReady is P(T ≤ elapsed+d | T > elapsed): the probability that an order
// still cooking after elapsed is ready within d more. It is non-decreasing
// in d. An order later than anything in the store's history gets a
// heavy-tail answer (exponential with the median as its mean) instead of
// certainty.
func (p Prediction) PReady(elapsed, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	v := mapAt(p.decide, d, p.UnmappedPReady(elapsed, d))
	if len(p.decide) == 0 {
		return v
	}
	// Each horizon has its own map; keep P non-decreasing in d.
	for _, h := range DecisionHorizons {
		if h >= d {
			break
		}
		v = max(v, mapAt(p.decide, h, p.UnmappedPReady(elapsed, h)))
	}
	return v
}

// UnmappedPReady is PReady before the prior's decision map: what a
// DecisionMap is fitted on (FitDecisions).
func (p Prediction) UnmappedPReady(elapsed, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	f0 := p.cdf(elapsed)
	surv := 1 - f0
	if surv < 1e-6 {
		return 1 - math.Exp(-d.Seconds()/p.quantile(0.5).Seconds())
	}
	pr := (p.cdf(elapsed+d) - f0) / surv
	return min(max(pr, 0), 1)
}

// tailRemaining is the q-quantile of remaining time past the history's
// tail, an exponential with the median as its mean.
func (p Prediction) tailRemaining(q float64) time.Duration {
	m := p.quantile(0.5).Seconds()
	q = min(max(q, 0), 0.999)
	return time.Duration(-math.Log(1-q) * m * float64(time.Second))
}
