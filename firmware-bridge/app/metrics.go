package app

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	bridge "github.com/passline/passline/firmware-bridge"
	"github.com/passline/passline/firmware-bridge/escpos"
	"github.com/passline/passline/firmware-bridge/evdev"
	"github.com/passline/passline/firmware-bridge/mqtt"
	"github.com/passline/passline/wire"
)

// metrics are the bridge's Prometheus metrics that need the event itself
// (its device, kind or status); meteredPublisher, which every driver
// publishes through, moves them. The rest are read at scrape time from the
// MQTT client (mqttCollector) and the print proxy (proxyCollector), so they
// never disagree with those components.
type metrics struct {
	published *prometheus.CounterVec
	latency   prometheus.Histogram
	stable    prometheus.Counter
	deviceUp  *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer, c *mqtt.Client) *metrics {
	m := &metrics{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passline_bridge_events_published_total", Help: "Device events acked by the broker, by device and kind."},
			[]string{"device", "kind"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "passline_bridge_publish_latency_seconds", Help: "From a driver's publish to the broker's PUBACK.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}),
		stable: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "passline_bridge_scale_stable_readings_total", Help: "Stable bag weights the scale driver reported."}),
		deviceUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "passline_bridge_device_up", Help: "1 while the device is connected, from its last status event."},
			[]string{"device", "device_id"}),
	}
	reg.MustRegister(m.published, m.latency, m.stable, m.deviceUp, mqttCollector{c})
	return m
}

// observe records one publish attempt of ev by dev that took d.
func (m *metrics) observe(dev wire.Device, ev wire.Event, d time.Duration, err error) {
	if ev.Kind == wire.EventWeight {
		m.stable.Inc()
	}
	if ev.Kind == wire.EventStatus && ev.Status != nil && dev != wire.DeviceBridge {
		m.deviceUp.WithLabelValues(string(dev), ev.DeviceID).Set(b2f(ev.Status.Online))
	}
	if err == nil {
		m.published.WithLabelValues(string(dev), string(ev.Kind)).Inc()
		m.latency.Observe(d.Seconds())
	}
}

var _ bridge.Publisher = meteredPublisher{}

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
	descPublishErr = prometheus.NewDesc("passline_bridge_publish_errors_total", "Device events not acked: queued while the broker is away, dropped, or failed.", []string{"reason"}, nil)
	descLink       = prometheus.NewDesc("passline_bridge_link_up", "1 while the link is connected.", []string{"link"}, nil)
	descQueue      = prometheus.NewDesc("passline_bridge_queue_depth", "Events queued in memory while the broker is away.", nil, nil)
	descDropped    = prometheus.NewDesc("passline_bridge_queue_dropped_total", "Events dropped because the in-memory queue was full.", nil, nil)
	descJobs       = prometheus.NewDesc("passline_bridge_print_jobs_total", "POS connections the print proxy served.", nil, nil)
	descBytes      = prometheus.NewDesc("passline_bridge_print_bytes_total", "Bytes the print proxy forwarded to the printer.", nil, nil)
	descTickets    = prometheus.NewDesc("passline_bridge_print_tickets_total", "Tickets read by the print proxy, by result.", []string{"result"}, nil)
	descIgnored    = prometheus.NewDesc("passline_bridge_input_ignored_total", "Input an evdev device sent that published nothing: unmapped bump bar keys, discarded scanner codes.", []string{"device_id"}, nil)
	descScanCodes  = prometheus.NewDesc("passline_bridge_print_scan_codes_total", "Scannable codes (QR or Code128 of the order id) the print proxy added to tickets.", nil, nil)
)

// mqttCollector reads the MQTT client's link state and counters.
type mqttCollector struct{ c *mqtt.Client }

// Describe implements prometheus.Collector.
func (mc mqttCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPublishErr, descLink, descQueue, descDropped} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (mc mqttCollector) Collect(ch chan<- prometheus.Metric) {
	_, failed := mc.c.Counts()
	queued, dropped := mc.c.OfflineCounts()
	// A dropped event is not acked either: it counts as failed here, and
	// on its own in passline_bridge_queue_dropped_total.
	ch <- prometheus.MustNewConstMetric(descPublishErr, prometheus.CounterValue, float64(queued), "queued")
	ch <- prometheus.MustNewConstMetric(descPublishErr, prometheus.CounterValue, float64(failed+dropped), "failed")
	ch <- prometheus.MustNewConstMetric(descLink, prometheus.GaugeValue, b2f(mc.c.Connected()), "mqtt")
	ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(mc.c.Backlog()))
	ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(dropped))
}

// proxyCollector reads the print proxy's counters; it is registered when
// the proxy starts (only with escpos enabled).
type proxyCollector struct{ p *escpos.Proxy }

// Describe implements prometheus.Collector.
func (pc proxyCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descJobs, descBytes, descTickets, descScanCodes} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (pc proxyCollector) Collect(ch chan<- prometheus.Metric) {
	st := pc.p.Stats()
	ch <- prometheus.MustNewConstMetric(descJobs, prometheus.CounterValue, float64(st.Jobs))
	ch <- prometheus.MustNewConstMetric(descBytes, prometheus.CounterValue, float64(st.Bytes))
	ch <- prometheus.MustNewConstMetric(descTickets, prometheus.CounterValue, float64(st.Parsed), "parsed")
	ch <- prometheus.MustNewConstMetric(descTickets, prometheus.CounterValue, float64(st.Unparsed), "unparsed")
	ch <- prometheus.MustNewConstMetric(descTickets, prometheus.CounterValue, float64(st.Dropped), "dropped")
	ch <- prometheus.MustNewConstMetric(descScanCodes, prometheus.CounterValue, float64(st.Codes))
}

// input is a started evdev driver (bump bar or scanner) and its device id.
type input struct {
	id string
	d  *evdev.Driver
}

// inputCollector reads the evdev drivers' ignored-input counts; their
// published events are counted with every driver's.
type inputCollector []input

// Describe implements prometheus.Collector.
func (ic inputCollector) Describe(ch chan<- *prometheus.Desc) { ch <- descIgnored }

// Collect implements prometheus.Collector.
func (ic inputCollector) Collect(ch chan<- prometheus.Metric) {
	for _, in := range ic {
		_, ignored := in.d.Counts()
		ch <- prometheus.MustNewConstMetric(descIgnored, prometheus.CounterValue, float64(ignored), in.id)
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
