// Package app wires passline-cloud: an optional embedded NATS server, the
// JetStream streams and buckets, the relay with its channels, the decision
// consumer, the assignment subscription and the HTTP API. Tests build Main
// directly with a temp dir and port 0.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/passline/passline/internal/tracing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/breaker"
	"github.com/passline/passline/cloud/config"
	"github.com/passline/passline/cloud/httpapi"
	"github.com/passline/passline/cloud/kpi"
	"github.com/passline/passline/cloud/natsd"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/phrase"
	"github.com/passline/passline/cloud/relay"
	"github.com/passline/passline/cloud/template"
	"github.com/passline/passline/internal/service"
)

// Main is the relay program. Set Config (and optionally Logger, Channels,
// Phraser, Gate) before Run.
type Main struct {
	Config config.Config
	Logger *slog.Logger
	// Channels are delivered to besides the rider NATS subject (webhook,
	// SMS). Each must have a unique Name.
	Channels []cloud.Channel
	Phraser  cloud.Phraser        // optional
	Gate     relay.Gate           // optional per-merchant limit
	Registry *prometheus.Registry // set by Run

	server      *natsd.Server
	nc          *nats.Conn // first of conns: setup, watches, assignments
	js          jetstream.JetStream
	conns       []*nats.Conn
	jss         []jetstream.JetStream
	assigns     *natsjs.AssignmentCache
	templates   *natsjs.Templates
	profiles    *natsjs.Profiles
	fanout      *relay.Fanout
	consumer    *natsjs.Consumer
	assignSub   *nats.Subscription
	relay       *relay.Relay
	orders      natsjs.Orders
	pending     natsjs.Pending
	api         *natsjs.API // the HTTP API's buckets and rider stream
	httpLn      net.Listener
	httpSrv     *http.Server
	platforms   *platforms  // nil: platform gateway off
	authn       *webAuthn   // token check of the API and the pages, when auth.key is set
	ownCreds    nats.Option // relay credentials minted from nats.embedded.trust, or nil
	kpis        *kpi.Recorder
	kpiStore    natsjs.KPIStore
	kpiConsumer *natsjs.KPIConsumer
	resends     *natsjs.Resends // nil: relay.ready_resend is 0
	receipts    natsjs.RiderReceipts

	tracing *tracing.Provider

	cancel  context.CancelFunc
	runCtx  context.Context // what Run started lives until Close cancels it
	wg      sync.WaitGroup
	started service.Stack // what Run started but the embedded server, for Close and Crash
}

// NewMain returns a Main with the default config.
func NewMain() *Main { return &Main{Config: config.DefaultConfig()} }

// NATSURL is the NATS URL the relay uses: the embedded server's, with the
// port actually bound, or the configured one.
func (m *Main) NATSURL() string {
	if m.server != nil {
		return m.server.ClientURL()
	}
	return m.Config.NATS.URL
}

// HTTPAddr is the address the HTTP API actually listens on.
func (m *Main) HTTPAddr() string {
	if m.httpLn == nil {
		return ""
	}
	return m.httpLn.Addr().String()
}

// Run starts everything and returns once the relay is consuming and the
// HTTP API is listening. On error, whatever was started is stopped.
func (m *Main) Run(ctx context.Context) (err error) {
	if err := m.Config.Validate(); err != nil {
		return fmt.Errorf("config: %w", err)
	}
	if m.Logger == nil {
		m.Logger = service.NewLogger(os.Stderr, m.Config.LogLevel)
	}
	if m.Config.Auth.Key == "" {
		m.Logger.Warn("INSECURE: auth.insecure_dev is set and auth.key is empty; the HTTP API is UNAUTHENTICATED. Development only: set auth.key in production",
			"http", m.Config.HTTP.Listen)
	}
	defer func() {
		if err != nil {
			_ = m.Close()
		}
	}()
	var runCtx context.Context
	runCtx, m.cancel = context.WithCancel(context.Background())
	m.runCtx = runCtx
	m.Registry = prometheus.NewRegistry()
	m.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := m.startNATS(ctx); err != nil {
		return err
	}
	buckets, err := m.setup(ctx)
	if err != nil {
		return err
	}
	if err := m.startRelay(ctx, runCtx, buckets); err != nil {
		return err
	}
	if err := m.startKPIs(ctx, runCtx); err != nil {
		return err
	}
	m.startPriorRefit(runCtx)
	return m.startHTTP()
}

func (m *Main) startRelay(ctx, runCtx context.Context, b *natsjs.Buckets) error {
	c := m.Config
	set, err := template.NewSet()
	if err != nil {
		return err
	}
	log := m.Logger.WithGroup("relay")
	if err := m.startWatches(runCtx, b, set, log); err != nil {
		return err
	}
	m.started.Push("background", func() error { m.cancel(); m.wg.Wait(); return nil })
	metrics := relay.NewMetrics(m.Registry)
	breakers := breaker.NewCollector()
	m.Registry.MustRegister(breakers)
	addons, err := m.addonChannels(b, breakers)
	if err != nil {
		return err
	}
	platformChans, err := m.startPlatforms(ctx, breakers)
	if err != nil {
		return err
	}
	rider, err := natsjs.NewRiderChannel(m.conns, c.Relay.RiderOutbox, c.Stream.Partitions, c.Relay.Window, c.Relay.ChannelTimeout)
	if err != nil {
		return err
	}
	channels := []cloud.Channel{rider}
	channels = append(append(append(channels, addons...), platformChans...), m.Channels...)
	m.fanout = relay.NewFanout(channels, c.Relay.ChannelWorkers, c.Relay.ChannelTimeout, c.Relay.ChannelTimeouts, metrics)
	var tracer trace.Tracer // nil: no spans at all
	if m.tracing, err = tracing.New(c.Tracing, "passline-cloud"); err != nil {
		return err
	}
	m.started.Push("tracing", m.tracing.Close)
	if m.tracing.Enabled() {
		tracer = m.tracing.Tracer("github.com/passline/passline/cloud/relay")
	}
	m.fanout.Tracer = tracer
	m.fanout.Start(runCtx)
	m.started.PushFunc("fanout", m.fanout.Close)
	m.orders = natsjs.Orders{KV: b.Orders, JS: m.js}
	m.pending = natsjs.Pending{KV: b.Pending, JS: m.js}
	if err := m.startLimits(breakers); err != nil {
		return err
	}
	m.resends = m.newResends(b)
	var handlers natsjs.Handlers
	for k, js := range m.jss {
		bk := b
		if k > 0 {
			bk, err = untilReady(ctx, m.Logger, "open buckets", func(ctx context.Context) (*natsjs.Buckets, error) {
				return natsjs.OpenBuckets(ctx, js)
			})
			if err != nil {
				return err
			}
		}
		r := &relay.Relay{
			Marks: natsjs.Marks{KV: bk.Delivered}, Assignments: m.assigns,
			Pending: natsjs.Pending{KV: bk.Pending, JS: js}, ETALimit: natsjs.ETALimit{KV: bk.ETA},
			Orders: natsjs.Orders{KV: bk.Orders, JS: js}, Profiles: m.profiles, Templates: set, Fanout: m.fanout,
			Phraser: m.Phraser, PhraseContext: phrase.WithMerchant, Gate: m.Gate, Locale: c.Locale,
			PhraseTimeout: c.Relay.ChannelTimeout, Log: log, Metrics: metrics, DedupeWindow: c.Stream.DuplicateWindow,
			Tracer: tracer,
		}
		if c.Limits.ETAInterval == 0 {
			r.ETALimit = nil
		}
		if m.resends != nil && !c.Relay.RiderOutbox { // with the outbox the re-sends sweep it: nothing to schedule
			r.Resends = m.resends
		}
		if c.Demo.AutoAssign {
			r.AutoAssignRiders = c.Demo.Riders
		}
		if k == 0 {
			m.relay = r
		}
		handlers = append(handlers, r.HandleAsync)
	}
	m.consumer = &natsjs.Consumer{
		JS: m.js, Streams: natsjs.DecisionStreams(c.Stream.Partitions), Partitions: c.Stream.Partitions, Window: c.Relay.Window, Durable: c.Consumer.Durable, MaxDeliver: c.Consumer.MaxDeliver, AckWait: c.Consumer.AckWait,
		MaxAckPending: c.Consumer.MaxAckPending, Backoff: c.Consumer.Backoff, Workers: c.Relay.Workers,
		Handlers: handlers, Log: log, Metrics: natsjs.NewConsumerMetrics(m.Registry),
	}
	if err := m.consumer.Start(runCtx); err != nil {
		return err
	}
	m.started.PushFunc("consumer", m.consumer.Close)
	if m.resends != nil {
		if err := m.resends.Start(runCtx); err != nil {
			return err
		}
		m.started.PushFunc("ready re-sends", m.resends.Close)
	}
	if err := m.startRiderReceipts(ctx, b); err != nil {
		return err
	}
	m.assignSub, err = natsjs.SubscribeAssignments(m.nc, m.relay.Assign, log)
	if err != nil {
		return err
	}
	m.started.Push("assignments", m.assignSub.Unsubscribe)
	m.startSweeper(runCtx, log)
	return nil
}

// startWatches starts the in-memory views of templates, store profiles and
// assignments that every replica keeps in step with their buckets.
func (m *Main) startWatches(ctx context.Context, b *natsjs.Buckets, set *template.Set, log *slog.Logger) error {
	m.templates = &natsjs.Templates{KV: b.Templates, Set: set, Log: log, Metrics: natsjs.NewWatchMetrics(m.Registry)}
	if err := m.templates.Start(ctx); err != nil {
		return err
	}
	m.started.PushFunc("templates", m.templates.Close)
	m.profiles = &natsjs.Profiles{KV: b.Stores, Log: log}
	if err := m.profiles.Start(ctx); err != nil {
		return err
	}
	m.started.PushFunc("profiles", m.profiles.Close)
	m.assigns = &natsjs.AssignmentCache{Store: natsjs.Assignments{KV: b.Assign}, TTL: m.Config.Relay.AssignmentTTL, Log: log}
	if err := m.assigns.Start(ctx); err != nil {
		return err
	}
	m.started.PushFunc("assignments cache", m.assigns.Close)
	return nil
}

// startSweeper drops decisions that expired waiting for a rider.
func (m *Main) startSweeper(ctx context.Context, log *slog.Logger) {
	expired := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "passline_relay_waiting_expired_total", Help: "Decisions dropped because they expired before their rider was assigned.",
	})
	m.Registry.MustRegister(expired)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		t := time.NewTicker(15 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			n, err := m.pending.Sweep(ctx, time.Now())
			if err != nil {
				log.Warn("sweep waiting decisions", "err", err)
			}
			expired.Add(float64(n))
		}
	}()
}

func (m *Main) startHTTP() (err error) {
	apiHandler, err := m.apiHandler()
	if err != nil {
		return fmt.Errorf("http handler: %w", err)
	}
	ln, err := net.Listen("tcp", m.Config.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("listen http %s: %w", m.Config.HTTP.Listen, err)
	}
	m.httpLn = ln
	handler, stopPages, err := m.pages(m.withPlatformWebhooks(apiHandler))
	if err != nil {
		return err
	}
	hc := m.Config.HTTP
	m.httpSrv = &http.Server{
		Handler:           httpapi.LimitBody(hc.MaxBody, handler), // before the pages and every route
		ReadHeaderTimeout: min(10*time.Second, hc.ReadTimeout),
		ReadTimeout:       hc.ReadTimeout,  // net/http clears it once the body is read
		WriteTimeout:      hc.WriteTimeout, // event streams lift it per request (http.ResponseController)
		IdleTimeout:       hc.IdleTimeout,
	}
	m.httpSrv.RegisterOnShutdown(stopPages)
	if c, ok := apiHandler.(interface{ Close() }); ok {
		m.httpSrv.RegisterOnShutdown(c.Close) // ends open SSE streams
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := m.httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("http server", "err", err)
		}
	}()
	m.started.Push("http", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return m.httpSrv.Shutdown(ctx)
	})
	m.Logger.Info("passline-cloud serving", "nats", m.NATSURL(), "http", m.HTTPAddr())
	return nil
}

// Close undoes Run in reverse: stop HTTP and assignments, stop consuming
// (messages in hand finish), stop channels and watchers, drain NATS, stop
// the embedded server. Unacked decisions are redelivered to another replica.
func (m *Main) Close() error {
	err := m.started.Close()
	if m.server != nil {
		m.server.Shutdown()
	}
	*m = Main{Config: m.Config, Logger: m.Logger, Channels: m.Channels, Phraser: m.Phraser, Gate: m.Gate}
	return err
}
