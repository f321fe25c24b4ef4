package breaker

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Collector exports the state of every added breaker as the gauge
// passline_cloud_breaker_state{channel, endpoint} (0 closed, 1 open,
// 2 half-open). Register one Collector per registry; add breakers to it at
// any time.
type Collector struct {
	desc *prometheus.Desc

	mu       sync.Mutex
	breakers []labelled
}

var _ prometheus.Collector = (*Collector)(nil)

type labelled struct {
	channel string
	b       *Breaker
}

// NewCollector returns an empty Collector.
func NewCollector() *Collector {
	return &Collector{desc: prometheus.NewDesc("passline_cloud_breaker_state",
		"Circuit breaker state per endpoint: 0 closed, 1 open, 2 half-open.",
		[]string{"channel", "endpoint"}, nil)}
}

// Add exports b's state labelled with channel (e.g. "webhook") and b's name.
func (c *Collector) Add(channel string, b *Breaker) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.breakers = append(c.breakers, labelled{channel, b})
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	list := append([]labelled(nil), c.breakers...)
	c.mu.Unlock()
	for _, l := range list {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(l.b.State()), l.channel, l.b.Name())
	}
}
