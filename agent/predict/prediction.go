package predict

import (
	"math"
	"time"
)

// Prediction is the model's answer for one order: a distribution of its
// prep time T, measured from accept. It is valid until the model's next
// Learn.
type Prediction struct {
	mu  float64 // predicted log-seconds
	res *residuals
}

func (p Prediction) cdf(t time.Duration) float64 {
	if t <= 0 {
		return 0
	}
	return p.res.F(math.Log(t.Seconds()) - p.mu)
}

func (p Prediction) quantile(q float64) time.Duration {
	s := math.Exp(p.mu + p.res.Q(q))
	return time.Duration(min(s, MaxPrep.Seconds()) * float64(time.Second))
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
