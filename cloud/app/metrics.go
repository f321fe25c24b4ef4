package app

import "github.com/prometheus/client_golang/prometheus"

// registerLinkMetric exports passline_relay_link_up{link="nats"}: 1 while
// every one of the relay's NATS connections is connected, read at scrape
// time from the connections themselves (as Health is).
func (m *Main) registerLinkMetric() {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name:        "passline_relay_link_up",
		Help:        "1 while all the relay's NATS connections are connected.",
		ConstLabels: prometheus.Labels{"link": "nats"},
	}, func() float64 {
		if m.Health() != nil {
			return 0
		}
		return 1
	}))
}
