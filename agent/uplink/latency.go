package uplink

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ackLatency is the decision → JetStream ack histogram, created on first
// use so the zero Uplink works.
type ackLatency struct {
	once sync.Once
	h    prometheus.Histogram
}

func (a *ackLatency) get() prometheus.Histogram {
	a.once.Do(func() {
		a.h = prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "passline_agent_publish_latency_seconds",
			Help:    "From a decision's creation (its bbolt commit) to JetStream's PubAck; a decision held through an outage counts its whole wait.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 18), // 1 ms .. ~131 s
		})
	})
	return a.h
}

// AckLatency is the histogram of decision created → JetStream PubAck, in
// seconds, observed once per decision the stream stored (duplicates are
// not observed again). Register it, or collect it from a collector.
func (u *Uplink) AckLatency() prometheus.Histogram { return u.ackLat.get() }

func (u *Uplink) observeAck(created time.Time) {
	if created.IsZero() {
		return
	}
	d := u.Now().Sub(created)
	if d < 0 {
		d = 0
	}
	u.ackLat.get().Observe(d.Seconds())
}
