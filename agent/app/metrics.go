package app

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// observer registers the agent's metrics and returns the writer's commit
// hook, which feeds the ingest latency histogram. The uplink's ack hook
// feeds the publish latency histogram (observeAck).
func (m *Main) observer() func(int, []time.Time) {
	lat := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "passline_agent_ingest_latency_seconds", Help: "From MQTT delivery to commit and ack.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)})
	batch := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "passline_agent_batch_events", Help: "Events committed per transaction.",
		Buckets: prometheus.ExponentialBuckets(1, 2, 11)})
	m.ackLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "passline_agent_publish_latency_seconds",
		Help:    "From a decision's creation (its bbolt commit) to JetStream's PubAck; a decision held through an outage counts its whole wait.",
		Buckets: prometheus.ExponentialBuckets(0.001, 2, 18), // 1 ms .. ~131 s
	})
	m.Registry.MustRegister(lat, batch, m.ackLatency, collector{m})
	return func(n int, received []time.Time) {
		batch.Observe(float64(n))
		now := time.Now()
		for _, t := range received {
			if !t.IsZero() {
				lat.Observe(now.Sub(t).Seconds())
			}
		}
	}
}

// observeAck is the uplink's ack hook (uplink.Uplink.ObserveAck).
func (m *Main) observeAck(d time.Duration) { m.ackLatency.Observe(d.Seconds()) }

// collector reads the state db's counters and the components' counters at
// scrape time, so metrics never disagree with the file.
type collector struct{ m *Main }

var (
	descOutboxDepth  = prometheus.NewDesc("passline_agent_outbox_depth", "Decisions waiting to be published.", nil, nil)
	descOutboxBytes  = prometheus.NewDesc("passline_agent_outbox_bytes", "Bytes of decisions waiting.", nil, nil)
	descOutboxAge    = prometheus.NewDesc("passline_agent_outbox_oldest_age_seconds", "Age of the oldest waiting decision.", nil, nil)
	descDrops        = prometheus.NewDesc("passline_agent_outbox_drops_total", "Decisions dropped by the outbox full policy or expiry.", []string{"reason"}, nil)
	descRejects      = prometheus.NewDesc("passline_agent_rejects_total", "Payloads refused, by reason.", []string{"reason"}, nil)
	descOpen         = prometheus.NewDesc("passline_agent_open_orders", "Open orders.", nil, nil)
	descCommitted    = prometheus.NewDesc("passline_agent_events_committed_total", "Inputs committed and acked.", nil, nil)
	descPanics       = prometheus.NewDesc("passline_agent_decider_panics_total", "Decide calls that panicked.", nil, nil)
	descCommitFail   = prometheus.NewDesc("passline_agent_commit_failures_total", "Failed state db commits.", nil, nil)
	descQueue        = prometheus.NewDesc("passline_agent_ingest_queue", "Inputs waiting for the writer.", nil, nil)
	descOverflow     = prometheus.NewDesc("passline_agent_mqtt_overflow_total", "MQTT messages left unacked because the queue was full.", nil, nil)
	descLink         = prometheus.NewDesc("passline_agent_link_up", "1 when the link is connected.", []string{"link"}, nil)
	descPublished    = prometheus.NewDesc("passline_agent_published_total", "Decisions acked by JetStream.", []string{"result"}, nil)
	descPublishErr   = prometheus.NewDesc("passline_agent_publish_errors_total", "Failed publish rounds.", nil, nil)
	descReplayed     = prometheus.NewDesc("passline_agent_replayed_total", "Decisions published late, marked replayed.", nil, nil)
	descLastSync     = prometheus.NewDesc("passline_agent_last_sync_timestamp_seconds", "When the outbox was last drained empty.", nil, nil)
	descStateDBBytes = prometheus.NewDesc("passline_agent_state_db_bytes", "Size of the state db file.", nil, nil)
	descStale        = prometheus.NewDesc("passline_agent_stale_events_total", "Events older than the stale horizon when they arrived: applied, no rider decision.", nil, nil)
	descMQTTRefused  = prometheus.NewDesc("passline_agent_mqtt_refused_total", "Connections the embedded MQTT broker refused.", nil, nil)
)

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOutboxDepth, descOutboxBytes, descOutboxAge, descDrops, descRejects,
		descOpen, descCommitted, descCommitFail, descPanics, descQueue, descOverflow, descLink, descPublished,
		descPublishErr, descReplayed, descLastSync, descStateDBBytes, descStale, descMQTTRefused} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	m := c.m
	gauge := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	counter := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, l...)
	}
	if st, err := m.DB.Stats(); err == nil {
		gauge(descOutboxDepth, float64(st.Outbox))
		gauge(descOutboxBytes, float64(st.OutboxBytes))
		age := 0.0
		if !st.OutboxOldest.IsZero() {
			age = time.Since(st.OutboxOldest).Seconds()
		}
		gauge(descOutboxAge, age)
		for r, n := range st.Drops {
			counter(descDrops, float64(n), r)
		}
		for r, n := range st.RejectCounts {
			counter(descRejects, float64(n), r)
		}
		gauge(descOpen, float64(st.OpenOrders))
		gauge(descStateDBBytes, float64(st.FileBytes))
	}
	counter(descCommitted, float64(m.Writer.Committed()))
	counter(descCommitFail, float64(m.Writer.CommitFailures()))
	counter(descPanics, float64(m.Writer.DeciderPanics()))
	gauge(descQueue, float64(m.Writer.QueueLen()))
	counter(descStale, float64(m.Writer.Stale()))
	if m.Broker != nil {
		counter(descMQTTRefused, float64(m.Broker.Refused()))
	}
	in := m.mqttInput()
	counter(descOverflow, float64(in.Overflow()))
	gauge(descLink, b2f(in.Connected()), "mqtt")
	if m.Uplink != nil {
		us := m.Uplink.Status()
		gauge(descLink, b2f(us.Connected), "nats")
		counter(descPublished, float64(us.Published), "published")
		counter(descPublished, float64(us.Duplicates), "duplicate")
		counter(descPublishErr, float64(us.Errors))
		counter(descReplayed, float64(us.Replayed))
		if !us.LastSync.IsZero() {
			gauge(descLastSync, float64(us.LastSync.Unix()))
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
