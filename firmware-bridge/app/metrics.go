package app

import (
	"errors"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	bridge "github.com/passline/passline/firmware-bridge"
	"github.com/passline/passline/firmware-bridge/escpos"
	"github.com/passline/passline/firmware-bridge/mqtt"
	"github.com/passline/passline/wire"
)

// metrics are the bridge's Prometheus metrics. The counters that belong to
// one event are moved by meteredPublisher, which every driver publishes
// through; the rest are read from the MQTT client and the print proxy at
// scrape time, so they never disagree with those components.
type metrics struct {
	published *prometheus.CounterVec
	errors    *prometheus.CounterVec
	latency   prometheus.Histogram
	stable    prometheus.Counter
	deviceUp  *prometheus.GaugeVec

	mu    sync.Mutex // guards proxy
	mqtt  *mqtt.Client
	proxy *escpos.Proxy
}

func newMetrics(reg prometheus.Registerer, c *mqtt.Client) *metrics {
	m := &metrics{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passline_bridge_events_published_total", Help: "Device events acked by the broker, by device and kind."},
			[]string{"device", "kind"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passline_bridge_publish_errors_total", Help: "Device events not acked: queued while the broker is away, dropped, or failed."},
			[]string{"reason"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "passline_bridge_publish_latency_seconds", Help: "From a driver's publish to the broker's PUBACK.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		stable: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "passline_bridge_scale_stable_readings_total", Help: "Stable bag weights the scale driver reported."}),
		deviceUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "passline_bridge_device_up", Help: "1 while the device is connected, from its last status event."},
			[]string{"device", "device_id"}),
		mqtt: c,
	}
	for _, r := range []string{"queued", "failed"} {
		m.errors.WithLabelValues(r) // exported as 0 from the start
	}
	reg.MustRegister(m.published, m.errors, m.latency, m.stable, m.deviceUp, m)
	return m
}

// setProxy makes the print proxy's counters part of the scrape.
func (m *metrics) setProxy(p *escpos.Proxy) {
	m.mu.Lock()
	m.proxy = p
	m.mu.Unlock()
}

// observe records one publish attempt of ev by dev that took d.
func (m *metrics) observe(dev wire.Device, ev wire.Event, d time.Duration, err error) {
	if ev.Kind == wire.EventWeight {
		m.stable.Inc()
	}
	if ev.Kind == wire.EventStatus && ev.Status != nil && dev != wire.DeviceBridge {
		m.deviceUp.WithLabelValues(string(dev), ev.DeviceID).Set(b2f(ev.Status.Online))
	}
	switch {
	case err == nil:
		m.published.WithLabelValues(string(dev), string(ev.Kind)).Inc()
		m.latency.Observe(d.Seconds())
	case errors.Is(err, bridge.ErrQueued):
		m.errors.WithLabelValues("queued").Inc()
	default:
		m.errors.WithLabelValues("failed").Inc()
	}
}

// meteredPublisher counts every event a driver hands to the MQTT client.
type meteredPublisher struct {
	next bridge.Publisher
	m    *metrics
}

// Publish forwards to the MQTT client and records the outcome.
func (p meteredPublisher) Publish(dev wire.Device, ev wire.Event) error {
	start := time.Now()
	err := p.next.Publish(dev, ev)
	p.m.observe(dev, ev, time.Since(start), err)
	return err
}

var (
	descLink     = prometheus.NewDesc("passline_bridge_link_up", "1 while the link is connected.", []string{"link"}, nil)
	descQueue    = prometheus.NewDesc("passline_bridge_queue_depth", "Events queued in memory while the broker is away.", nil, nil)
	descDropped  = prometheus.NewDesc("passline_bridge_queue_dropped_total", "Events dropped because the in-memory queue was full.", nil, nil)
	descJobs     = prometheus.NewDesc("passline_bridge_print_jobs_total", "POS connections the print proxy served.", nil, nil)
	descBytes    = prometheus.NewDesc("passline_bridge_print_bytes_total", "Bytes the print proxy forwarded to the printer.", nil, nil)
	descTickets  = prometheus.NewDesc("passline_bridge_print_tickets_total", "Tickets read by the print proxy, by result.", []string{"result"}, nil)
	bridgeDescrs = []*prometheus.Desc{descLink, descQueue, descDropped, descJobs, descBytes, descTickets}
)

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range bridgeDescrs {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	val := func(d *prometheus.Desc, t prometheus.ValueType, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, t, v, l...)
	}
	val(descLink, prometheus.GaugeValue, b2f(m.mqtt.Connected()), "mqtt")
	_, dropped := m.mqtt.OfflineCounts()
	val(descQueue, prometheus.GaugeValue, float64(m.mqtt.Backlog()))
	val(descDropped, prometheus.CounterValue, float64(dropped))
	m.mu.Lock()
	p := m.proxy
	m.mu.Unlock()
	if p == nil {
		return
	}
	st := p.Stats()
	val(descJobs, prometheus.CounterValue, float64(st.Jobs))
	val(descBytes, prometheus.CounterValue, float64(st.Bytes))
	val(descTickets, prometheus.CounterValue, float64(st.Parsed), "parsed")
	val(descTickets, prometheus.CounterValue, float64(st.Unparsed), "unparsed")
	val(descTickets, prometheus.CounterValue, float64(st.Dropped), "dropped")
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
