// Package app wires the agent: state db, ingest writer, MQTT source (and
// the embedded broker when configured), GPIO bump bar, JetStream uplink and
// the local HTTP status server. main and the end-to-end tests both build a
// Main, so tests run the real program.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/passline/passline/internal/tracing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/bolt"
	"github.com/passline/passline/agent/config"
	"github.com/passline/passline/agent/configsync"
	"github.com/passline/passline/agent/gpio"
	"github.com/passline/passline/agent/ingest"
	"github.com/passline/passline/agent/kpisync"
	"github.com/passline/passline/agent/mqtt"
	"github.com/passline/passline/agent/priorsync"
	"github.com/passline/passline/agent/uplink"
	"github.com/passline/passline/internal/service"
)

// Main is the agent program.
type Main struct {
	Config config.Config
	// Decider decides what riders are told. Leave nil to use NewDecider.
	Decider agent.Decider
	// NewDecider builds the Decider after the state db is open (so it can
	// load a stored model). Nil means DefaultDecider: the rules engine with
	// the store's rules and its stored model.
	NewDecider func(cfg config.Config, db *bolt.DB) (agent.Decider, error)
	// Pins resolves GPIO pin names; nil means periph's gpioreg (main calls
	// host.Init first). Tests pass gpiotest pins here.
	Pins func(name string) (PinIn, error)
	Log  *slog.Logger
	// BeforeCommit is passed to the state db: a fault-injection seam for tests.
	BeforeCommit func() error
	// SeparateRemovals commits the uplink's outbox removals in their own
	// transaction (one more fsync per publish window) instead of folding
	// them into the writer's next one. Only benchmarks set it, to measure
	// what the fold saves (e2e/bench BenchmarkRemovals).
	SeparateRemovals bool

	// Tracing is the agent's tracer provider, made by Run from
	// Config.Tracing.
	Tracing  *tracing.Provider
	DB       *bolt.DB
	Writer   *ingest.Writer
	Broker   *mqtt.Broker
	Source   *mqtt.Source
	Uplink   *uplink.Uplink
	GPIO     *gpio.Source
	Registry *prometheus.Registry
	// ConfigSync applies the store's config from the cloud live (nil when
	// the Decider cannot be reconfigured).
	ConfigSync *configsync.Watcher
	// PriorSync applies the fleet prior of the store's category to the
	// prep-time model live (nil when the Decider has no model to take it).
	PriorSync *priorsync.Watcher
	// KPISync reads the store's rider waits of today from the cloud for
	// the pass board; KPIEvery is how often (0: a minute).
	KPISync  *kpisync.Poller
	KPIEvery time.Duration

	httpSrv    *http.Server
	httpLn     net.Listener
	started    time.Time
	running    service.Stack        // what Run started, for Close
	ackLatency prometheus.Histogram // fed by the uplink (observeAck)
}

// NewMain returns a Main with the default config.
func NewMain() *Main {
	return &Main{Config: config.DefaultConfig(), Log: slog.Default()}
}

// StatePath is the state db file under the data dir.
func (m *Main) StatePath() string { return filepath.Join(m.Config.DataDir, "state.db") }

// Run validates the config and starts everything; it returns once the
// agent is serving (MQTT and NATS connect in the background and retry
// forever). On error everything already started is closed.
func (m *Main) Run(ctx context.Context) (err error) {
	if m.Log == nil {
		m.Log = slog.Default()
	}
	if err := m.Config.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	m.started = time.Now()
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	steps := []func(context.Context) error{m.startTracing, m.openDB, m.startWriter, m.startUplink, m.startConfigSync, m.startPriorSync, m.startKPISync, m.startBroker, m.startSource, m.startGPIO, m.startHTTP}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	m.Log.Info("agent running", "store", m.Config.Store, "state", m.StatePath(), "mqtt", m.mqttURL(), "nats", m.Config.NATS.URL, "http", m.HTTPAddr())
	return nil
}

func (m *Main) startTracing(context.Context) (err error) {
	m.Tracing, err = tracing.New(m.Config.Tracing, "passline-agent", attribute.String("passline.store", m.Config.Store))
	if err != nil {
		return err
	}
	m.running.Push("tracing", m.Tracing.Close)
	return nil
}

func (m *Main) openDB(context.Context) error {
	c := m.Config
	db, err := bolt.Open(m.StatePath(), bolt.Options{Timeout: c.Lock, BeforeCommit: m.BeforeCommit, Limits: bolt.Limits{
		OutboxEntries: c.Outbox.MaxEntries, OutboxBytes: c.Outbox.MaxBytes,
		History: c.Retain.History, Rejects: c.Retain.Rejects, Seen: c.Retain.Seen}})
	if err != nil {
		return err
	}
	m.DB = db
	m.running.Push("state db", db.Close)
	if err := m.warmModel(); err != nil {
		return err
	}
	if m.Decider != nil {
		return nil
	}
	build := m.NewDecider
	if build == nil {
		build = DefaultDecider
	}
	if m.Decider, err = build(c, db); err != nil {
		return fmt.Errorf("build decider: %w", err)
	}
	return nil
}

func (m *Main) startWriter(ctx context.Context) error {
	c := m.Config
	w := ingest.NewWriter(m.DB, c.Store, c.Ingest.Queue)
	w.Decider, w.AutoStart, w.MaxBatch = m.Decider, c.Ingest.AutoStart, c.Ingest.MaxBatch
	w.Tick, w.FinishedTTL, w.OrphanTTL = c.Params.RetryInterval, c.Retain.FinishedTTL, c.Retain.OrphanTTL
	w.StaleAfter, w.RecallWindow = c.Ingest.StaleAfter, c.Ingest.RecallWindow
	w.Log, w.Tracer = m.Log.With("component", "ingest"), m.Tracing.Tracer("github.com/passline/passline/agent/ingest")
	m.Registry = prometheus.NewRegistry()
	w.Observe = m.observer()
	m.Writer = w
	m.running.PushFunc("writer", w.Close)
	return w.Run(ctx)
}

func (m *Main) startUplink(ctx context.Context) error {
	c := m.Config.NATS
	u := uplink.New(c.URL, m.Config.Store, m.DB)
	u.Name, u.Creds = c.Name, c.Creds
	var err error
	if u.TLS, err = c.TLS.Client(); err != nil {
		return fmt.Errorf("nats.tls: %w", err)
	}
	if u.Name == "" {
		u.Name = m.Config.Store + "-agent"
	}
	u.Window, u.AckTimeout, u.ReplayAfter = c.PublishWindow, c.AckTimeout, c.ReplayAfter
	u.Replicas, u.DuplicateWindow, u.MaxAge = c.Replicas, c.DuplicateWindow, c.MaxAge
	u.Log, u.ObserveAck = m.Log.With("component", "uplink"), m.observeAck
	u.Tracer = m.Tracing.Tracer("github.com/passline/passline/agent/uplink")
	if !m.SeparateRemovals {
		u.Remove = m.Writer.Remove
	}
	m.Uplink = u
	m.Writer.Notify = u.Kick
	m.running.Push("uplink", func() error {
		m.Writer.Close() // its last batch reaches the outbox before the flush (the writer's own Close is then a no-op)
		m.flush(2 * time.Second)
		u.Close()
		return nil
	})
	return u.Run(ctx)
}

func (m *Main) startBroker(context.Context) error {
	e := m.Config.MQTT.Embedded
	if !e.Enabled {
		return nil
	}
	b := &mqtt.Broker{Listen: e.Listen, Log: m.Log.With("component", "mqtt-broker"),
		Store: m.Config.Store, Ingest: m.Writer.Ingest, Reserved: m.Config.MQTT.ClientID}
	var err error
	if b.TLS, err = e.TLS.Server(); err != nil {
		return fmt.Errorf("mqtt.embedded.tls: %w", err)
	}
	if e.PasswordFile != "" {
		if b.Users, err = mqtt.LoadPasswordFile(e.PasswordFile); err != nil {
			return fmt.Errorf("mqtt.embedded.password_file: %w", err)
		}
	}
	if e.Persist {
		b.Persist = filepath.Join(m.Config.DataDir, "broker.db")
	}
	if err := b.Run(); err != nil {
		return err
	}
	m.Broker = b
	m.running.Push("mqtt broker", b.Close)
	return nil
}

func (m *Main) mqttURL() string {
	if m.Broker != nil {
		return m.Broker.URL()
	}
	return m.Config.MQTT.URL
}

// startSource subscribes to an external broker. With the embedded broker
// there is no source: the broker hands events to the writer itself.
func (m *Main) startSource(ctx context.Context) error {
	if m.Broker != nil {
		return nil
	}
	c := m.Config.MQTT
	ctls, err := c.TLS.Client()
	if err != nil {
		return fmt.Errorf("mqtt.tls: %w", err)
	}
	m.Source = &mqtt.Source{URL: m.mqttURL(), ClientID: c.ClientID, Username: c.Username, Password: c.Password, TLS: ctls,
		Store: m.Config.Store, Offer: m.Writer.OfferWait, Log: m.Log.With("component", "mqtt"),
		Room: func() bool { return m.Writer.QueueLen() < m.Config.Ingest.Queue/2 }}
	m.running.PushFunc("mqtt source", m.Source.Close)
	return m.Source.Run(ctx)
}

// MQTTAddr is the embedded broker's bound host:port, or "" when the agent
// uses an external broker.
func (m *Main) MQTTAddr() string {
	if m.Broker == nil {
		return ""
	}
	return m.Broker.Addr()
}

// MQTTURL is the URL devices publish to: the embedded broker's, or the
// external broker's the source connects to.
func (m *Main) MQTTURL() string { return m.mqttURL() }

// MQTTConnected reports whether device events can reach the agent: the
// embedded broker is serving, or the source is connected and subscribed.
func (m *Main) MQTTConnected() bool { return m.mqttInput().Connected() }

// mqttInput is where device events come from: the paho source, or the
// embedded broker's ingest hook.
type mqttInput interface {
	Connected() bool
	Received() int64
	Overflow() int64
}

func (m *Main) mqttInput() mqttInput {
	if m.Broker != nil {
		return brokerInput{m.Broker}
	}
	if m.Source != nil {
		return m.Source
	}
	return brokerInput{}
}

// brokerInput is the embedded broker as the agent's MQTT input.
type brokerInput struct{ b *mqtt.Broker }

func (i brokerInput) Connected() bool { return i.b != nil && i.b.Serving() }
func (i brokerInput) Received() int64 {
	if i.b == nil {
		return 0
	}
	return i.b.Received()
}

// Overflow is 0: the ingest hook waits for queue room instead of leaving a
// message unacked.
func (brokerInput) Overflow() int64 { return 0 }

// HTTPAddr is the status server's bound host:port, or "" when disabled.
func (m *Main) HTTPAddr() string {
	if m.httpLn == nil {
		return ""
	}
	return m.httpLn.Addr().String()
}

// Close undoes Run in reverse: stop HTTP and inputs (the embedded broker
// among them), let the writer finish its batch, give the uplink up to 2 s
// to flush the outbox, drain NATS, close the state db. Messages not yet
// committed stay unacked: with the broker's session, or with their
// publisher when the embedded broker stops.
func (m *Main) Close() error {
	err := m.running.Close()
	m.httpSrv, m.httpLn = nil, nil
	m.GPIO, m.Source, m.Writer, m.Uplink, m.DB, m.Broker, m.Tracing = nil, nil, nil, nil, nil, nil, nil
	m.ConfigSync, m.PriorSync, m.KPISync = nil, nil, nil
	return err
}

// flush kicks the uplink and waits up to d for an empty outbox.
func (m *Main) flush(d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		st, err := m.DB.Stats()
		if err != nil || st.Outbox == 0 || !m.Uplink.Status().Connected {
			return
		}
		m.Uplink.Kick()
		time.Sleep(20 * time.Millisecond)
	}
}
