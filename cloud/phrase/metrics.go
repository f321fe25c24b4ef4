package phrase

import (
	"fmt"

	"github.com/passline/passline/cloud/breaker"
	"github.com/prometheus/client_golang/prometheus"
)

// Fallback reasons, the label of the fallbacks counter.
const (
	fallbackLocale  = "locale"       // locale not zh or en: no call made
	fallbackBudget  = "daily_budget" // merchant's daily calls spent
	fallbackBreaker = "breaker_open" // endpoint's breaker open
	fallbackCall    = "call_failed"  // timeout, 5xx, malformed answer
	fallbackVerify  = "verify"       // answer failed verification
)

// metrics are the phraser's Prometheus series.
type metrics struct {
	calls     *prometheus.CounterVec // outcome
	latency   prometheus.Histogram   // seconds per call
	verify    *prometheus.CounterVec // reason
	fallbacks *prometheus.CounterVec // reason
	cacheHits prometheus.Counter
	breaker   prometheus.GaugeFunc
}

func newMetrics(reg prometheus.Registerer, br *breaker.Breaker) (*metrics, error) {
	m := &metrics{
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "passline_cloud_phrase_calls_total",
			Help: "Calls to the language model endpoint by outcome (ok, timeout, http_error, malformed, transport_error)."}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "passline_cloud_phrase_call_seconds",
			Help:    "Duration of calls to the language model endpoint, bounded by the per-message budget.",
			Buckets: []float64{0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6}}),
		verify: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "passline_cloud_phrase_verify_failures_total",
			Help: "Generated texts refused by verification, by reason."}, []string{"reason"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "passline_cloud_phrase_fallbacks_total",
			Help: "Messages that used the template text instead of generated text, by reason."}, []string{"reason"}),
		cacheHits: prometheus.NewCounter(prometheus.CounterOpts{Name: "passline_cloud_phrase_cache_hits_total",
			Help: "Messages served from the verified-text cache without a model call."}),
		breaker: prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "passline_cloud_phrase_breaker_state",
			Help: "Language model endpoint breaker: 0 closed, 1 open, 2 half-open."}, func() float64 { return float64(br.State()) }),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.calls, m.latency, m.verify, m.fallbacks, m.cacheHits, m.breaker} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register phrase metrics: %w", err)
		}
	}
	return m, nil
}
