package relay

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/passline/passline/cloud"
)

// Metrics are the relay's Prometheus collectors.
type Metrics struct {
	decisions   *prometheus.CounterVec
	deliveries  *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	assignments prometheus.Counter
	released    prometheus.Counter
}

// NewMetrics creates the collectors and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passline_relay_decisions_total", Help: "Decisions handled, by result.",
		}, []string{"result"}),
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passline_relay_deliveries_total", Help: "Delivery attempts, by channel and outcome.",
		}, []string{"channel", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "passline_relay_delivery_latency_seconds",
			Help:    "Time from the decision's creation to its successful delivery, by channel.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300},
		}, []string{"channel"}),
		assignments: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "passline_relay_assignments_total", Help: "Rider assignments stored.",
		}),
		released: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "passline_relay_released_total", Help: "Waiting decisions released by an assignment.",
		}),
	}
	reg.MustRegister(m.decisions, m.deliveries, m.latency, m.assignments, m.released)
	return m
}

func (m *Metrics) observe(channel string, err error, decided time.Time) {
	switch {
	case err == nil:
		m.deliveries.WithLabelValues(channel, "ok").Inc()
		m.latency.WithLabelValues(channel).Observe(time.Since(decided).Seconds())
	case errors.Is(err, cloud.ErrDuplicate):
		m.deliveries.WithLabelValues(channel, "duplicate").Inc()
	case errors.Is(err, cloud.ErrPermanent):
		m.deliveries.WithLabelValues(channel, "permanent").Inc()
	case errors.Is(err, ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		m.deliveries.WithLabelValues(channel, "timeout").Inc()
	default:
		m.deliveries.WithLabelValues(channel, "error").Inc()
	}
}
