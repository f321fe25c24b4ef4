// Package config is the relay's configuration: defaults, YAML with ${VAR}
// expansion (internal/yamlconf), and validation whose errors name the
// field.
package config

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/passline/passline/internal/tracing"

	"github.com/passline/passline/cloud/egress"
	"github.com/passline/passline/cloud/phrase"
	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/cloud/priorfit"
	"github.com/passline/passline/cloud/quota"
	"github.com/passline/passline/cloud/sms"
	"github.com/passline/passline/cloud/token"
	"github.com/passline/passline/cloud/webhook"
	"github.com/passline/passline/internal/yamlconf"
	"github.com/passline/passline/wire"
	"github.com/passline/passline/wire/tlsconf"
)

// Config is everything passline-cloud reads from its YAML file.
type Config struct {
	NATS     NATS     `yaml:"nats"`
	DataDir  string   `yaml:"data_dir"` // state of the embedded NATS server lives under it
	HTTP     HTTP     `yaml:"http"`
	Stream   Stream   `yaml:"stream"`
	Consumer Consumer `yaml:"consumer"`
	Relay    Relay    `yaml:"relay"`
	Demo     Demo     `yaml:"demo"`
	// Ops sizes the ops page's plots.
	Ops Ops `yaml:"ops"`
	// Limits are per-merchant tier limits (per relay process) and the eta
	// interval (cluster-wide: one eta per order per limits.eta_interval,
	// 0 for no eta limit).
	Limits quota.Config `yaml:"limits"`
	// Auth secures the HTTP API (cloud/httpapi's routes): the relay
	// refuses to start without auth.key unless auth.insecure_dev asks for
	// the same routes with authentication off.
	Auth token.Config `yaml:"auth"`
	// Phrase optionally rewrites texts with a language model, for stores
	// whose profile sets model_text; off by default.
	Phrase phrase.Config `yaml:"phrase"`
	// Webhook endpoints each become a channel (CloudEvents, Standard
	// Webhooks signatures, a breaker per endpoint); none by default.
	Webhook webhook.Config `yaml:"webhook"`
	// Egress allows outbound connections to addresses that are not public
	// (loopback, private, link-local): webhook endpoints are refused there
	// at dial time unless egress.allow lists the address, its CIDR or its
	// host name.
	Egress egress.Config `yaml:"egress"`
	// SMS sends through an HTTP gateway to riders whose phone is in KV
	// PASSLINE_RIDERS; off while sms.url is empty.
	SMS      sms.Config `yaml:"sms"`
	Locale   string     `yaml:"locale"` // locale used when an assignment names none: zh-CN or en
	LogLevel string     `yaml:"log_level"`

	// Platform connects stores to delivery platforms (a channel and a
	// webhook receiver per platform, credentials per store set through
	// the API); off while platform.seal_key is empty.
	Platform platform.Config `yaml:"platform"`

	// Model re-fits the prep-time model's fleet prior from the ready
	// decisions agents sync (cloud/priorfit); off while
	// model.refit_interval is 0.
	Model priorfit.Config `yaml:"model"`
	// Tracing exports the relay's spans by OTLP when it names an endpoint;
	// without one the relay makes no spans at all.
	Tracing tracing.Config `yaml:"tracing"`
}

// NATS says which NATS to use: an external cluster at URL, or an embedded
// server when Embedded.Enabled.
type NATS struct {
	URL   string `yaml:"url"`   // ignored when embedded is enabled
	Creds string `yaml:"creds"` // path of a .creds file, optional
	// TLS of the relay's connections (ca to trust the servers, cert and
	// key for mutual TLS); empty: plain, or system roots for a tls:// URL.
	TLS      tlsconf.Config `yaml:"tls"`
	Embedded Embedded       `yaml:"embedded"`
}

// Embedded configures the in-process nats-server with JetStream.
type Embedded struct {
	Enabled    bool    `yaml:"enabled"`
	Listen     string  `yaml:"listen"`      // host:port for clients; port 0 picks a free port
	StoreDir   string  `yaml:"store_dir"`   // JetStream storage; default {data_dir}/jetstream
	ServerName string  `yaml:"server_name"` // unique per cluster node
	Cluster    Cluster `yaml:"cluster"`
	// TLS makes the client port TLS-only: cert and key required, ca to
	// require client certificates. Set nats.tls.ca so the relay trusts it.
	TLS tlsconf.Config `yaml:"tls"`
	// Trust is the natsauth trust file (what `passline-cloud store add
	// -trust` signs with): the server then runs in operator mode and every
	// client needs credentials minted under it (stores: `store add`; the
	// relay mints its own unless nats.creds is set). Required, or tls.ca,
	// when Listen is beyond loopback.
	Trust string `yaml:"trust"`
}

// Cluster joins the embedded server to a JetStream cluster when Listen is set.
type Cluster struct {
	Name   string   `yaml:"name"`
	Listen string   `yaml:"listen"` // host:port for routes
	Routes []string `yaml:"routes"` // nats-route://host:port of the other nodes
}

// HTTP is the API, pages, health and metrics listener.
type HTTP struct {
	Listen string `yaml:"listen"` // host:port; port 0 picks a free port
	// ReadTimeout bounds reading a request, headers and body: a client
	// that trickles its body is cut off.
	ReadTimeout time.Duration `yaml:"read_timeout"`
	// WriteTimeout bounds writing an answer; event streams lift it.
	WriteTimeout time.Duration `yaml:"write_timeout"`
	// IdleTimeout closes a keep-alive connection idle this long.
	IdleTimeout time.Duration `yaml:"idle_timeout"`
	// MaxBody caps every request body before any handler reads it.
	MaxBody int64 `yaml:"max_body"`
}

// Stream configures the DECISIONS stream.
type Stream struct {
	Replicas        int           `yaml:"replicas"`
	DuplicateWindow time.Duration `yaml:"duplicate_window"` // Nats-Msg-Id dedupe; size it for a store's outage
	MaxAge          time.Duration `yaml:"max_age"`
	// Partitions spreads the decisions over this many streams by store
	// (one more NATS node's worth of throughput each; see the README's
	// Partitions section). Set when the streams are created: the relay
	// refuses to start against streams laid out for another count. With
	// more than 1, every NATS server needs the subject mapping
	// wire.DecisionMapping (the embedded server sets it itself).
	Partitions int `yaml:"partitions"`
}

// Consumer configures the durable pull consumer every replica shares.
type Consumer struct {
	Durable       string          `yaml:"durable"`
	MaxDeliver    int             `yaml:"max_deliver"` // then the decision goes to the dead-letter stream
	AckWait       time.Duration   `yaml:"ack_wait"`
	Backoff       []time.Duration `yaml:"backoff"` // NAK delays, by delivery attempt; the last repeats
	MaxAckPending int             `yaml:"max_ack_pending"`
}

// Relay tunes how decisions become deliveries.
type Relay struct {
	Workers        int           `yaml:"workers"`         // order lanes: one order's decisions stay on one, in order
	Window         int           `yaml:"window"`          // decisions in flight per replica (pipelined), across the workers
	Connections    int           `yaml:"connections"`     // NATS connections the workers are spread over
	ChannelWorkers int           `yaml:"channel_workers"` // deliveries in flight per channel
	ChannelTimeout time.Duration `yaml:"channel_timeout"` // one delivery (with its retries) on one channel
	// ChannelTimeouts override ChannelTimeout by channel name ("rider",
	// "sms", "webhook" for every endpoint, or "webhook:<name>").
	ChannelTimeouts map[string]time.Duration `yaml:"channel_timeouts"`
	IdempotencyTTL  time.Duration            `yaml:"idempotency_ttl"`  // how long a delivered decision id is remembered
	AssignmentTTL   time.Duration            `yaml:"assignment_ttl"`   // how long an assignment is kept
	PendingTTL      time.Duration            `yaml:"pending_ttl"`      // longest a decision waits for its rider
	OrderViewTTL    time.Duration            `yaml:"order_view_ttl"`   // how long the order view keeps an order
	OutboxDuplicate time.Duration            `yaml:"outbox_duplicate"` // dedupe window of the rider outbox stream
	// RiderOutbox publishes rider notifications through the RIDER_OUTBOX
	// stream, which drops a repeat after a relay crash; false publishes
	// straight to the rider subject: faster, but a crash between delivery
	// and mark can repeat a message.
	RiderOutbox bool `yaml:"rider_outbox"`
	// ReadyResend is how long a ready waits for its rider's ack
	// (POST /v1/riders/{rider}/orders/{order}/ack) before it is sent once
	// more, marked resent; 0 turns re-sending off. The pending re-sends
	// are kept in JetStream, not in a replica: with rider_outbox they are
	// the outbox's own messages, read ready_resend behind by a shared
	// consumer (no write of their own); without it, stream RIDER_RESEND.
	ReadyResend time.Duration `yaml:"ready_resend"`
}

// Ops sizes the ops page's plots (cloud/web): live points every
// sample_every, the hourly KPIs read every kpi_every, over the last hours.
type Ops struct {
	SampleEvery time.Duration `yaml:"sample_every"`
	KPIEvery    time.Duration `yaml:"kpi_every"`
	Hours       int           `yaml:"hours"`
}

// Demo simulates the delivery platform for `make demo`.
type Demo struct {
	// AutoAssign gives any decision whose order has no rider the rider
	// rider-{k}, k chosen from the order id. Never enable in production.
	AutoAssign bool `yaml:"auto_assign"`
	Riders     int  `yaml:"riders"`
}

// DefaultConfig is what a file overrides: a local NATS, one replica.
func DefaultConfig() Config {
	return Config{
		NATS:    NATS{URL: "nats://127.0.0.1:4222"},
		DataDir: "/var/lib/passline/cloud",
		HTTP: HTTP{
			Listen: "127.0.0.1:8080", ReadTimeout: 15 * time.Second, WriteTimeout: 30 * time.Second,
			IdleTimeout: 2 * time.Minute, MaxBody: 64 << 10,
		},
		Stream: Stream{Replicas: 1, DuplicateWindow: 2 * time.Hour, MaxAge: 72 * time.Hour, Partitions: 1},
		Consumer: Consumer{
			Durable: "relay", MaxDeliver: 8, AckWait: 30 * time.Second, MaxAckPending: 4096,
			Backoff: []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 2 * time.Minute},
		},
		Relay: Relay{
			Workers: 64, Window: 1024, Connections: 4, ChannelWorkers: 64, ChannelTimeout: 5 * time.Second,
			IdempotencyTTL: 7 * 24 * time.Hour, AssignmentTTL: 24 * time.Hour, PendingTTL: time.Hour,
			OrderViewTTL: 24 * time.Hour, OutboxDuplicate: 10 * time.Minute, RiderOutbox: true,
			ReadyResend: 90 * time.Second,
		},
		Demo:     Demo{Riders: 5},
		Ops:      Ops{SampleEvery: 10 * time.Second, KPIEvery: 30 * time.Second, Hours: 6},
		Limits:   quota.DefaultConfig(),
		Phrase:   phrase.DefaultConfig(),
		Webhook:  webhook.DefaultConfig(),
		SMS:      sms.DefaultConfig(),
		Platform: platform.DefaultConfig(),
		Model:    priorfit.DefaultConfig(),
		Locale:   "zh-CN",
		LogLevel: "info",
	}
}

// Parse decodes r's YAML over the defaults with internal/yamlconf (unknown
// fields are errors; ${VAR} from the environment, $$ for a literal $) and
// validates the result.
func Parse(r io.Reader) (Config, error) { return yamlconf.Parse(r, DefaultConfig()) }

// Load parses the file at path; errors name it.
func Load(path string) (Config, error) { return yamlconf.Load(path, DefaultConfig()) }

// StoreDir is where the embedded server keeps JetStream data.
func (c Config) StoreDir() string {
	if c.NATS.Embedded.StoreDir != "" {
		return c.NATS.Embedded.StoreDir
	}
	return c.DataDir + "/jetstream"
}

// Validate checks every field; the error names the first bad one.
func (c Config) Validate() error {
	checks := []func() error{c.validateNATS, c.validateStream, c.validateConsumer, c.validateRelay, c.validateMisc,
		func() error { return c.Limits.Validate("limits") }, func() error { return c.Phrase.Validate("phrase") },
		func() error { return c.Webhook.Validate("webhook") }, c.validateEgress, func() error { return c.SMS.Validate("sms") }, c.validateAuth,
		func() error { return c.Platform.Validate("platform") }, func() error { return c.Model.Validate("model") }, c.Tracing.Validate}
	for _, check := range checks {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

func (c Config) validateAuth() error { return c.Auth.Validate() }

// validateEgress checks the allow-list, and refuses at start a webhook URL
// whose host is an address (or localhost) the guard would refuse at
// delivery.
func (c Config) validateEgress() error {
	g, err := egress.New(c.Egress)
	if err != nil {
		return fmt.Errorf("egress.%w", err)
	}
	for i, ep := range c.Webhook.Endpoints {
		u, err := url.Parse(ep.URL)
		if err != nil {
			continue // webhook.Validate names it
		}
		if err := g.CheckHost(u.Hostname()); err != nil {
			return fieldErr(fmt.Sprintf("webhook.endpoints[%d].url", i), "%v", err)
		}
	}
	return nil
}

func fieldErr(field, format string, args ...any) error {
	return fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...))
}

func checkHostPort(field, s string) error {
	if _, _, err := net.SplitHostPort(s); err != nil {
		return fieldErr(field, "%q is not host:port: %v", s, err)
	}
	return nil
}

func (c Config) validateNATS() error {
	e := c.NATS.Embedded
	if err := c.NATS.TLS.Validate("nats.tls"); err != nil {
		return err
	}
	if err := e.TLS.ValidateServer("nats.embedded.tls"); err != nil {
		return err
	}
	if !e.Enabled {
		if c.NATS.URL == "" {
			return fieldErr("nats.url", "required unless nats.embedded.enabled")
		}
		return nil
	}
	if err := checkHostPort("nats.embedded.listen", e.Listen); err != nil {
		return err
	}
	if e.Trust != "" && c.Stream.Partitions > 1 {
		// The embedded server maps decision subjects to partitions in its
		// global account; with a trust, clients live in the Passline account.
		return fieldErr("nats.embedded.trust", "not supported with stream.partitions %d > 1; use an external NATS cluster", c.Stream.Partitions)
	}
	if host, _, _ := net.SplitHostPort(e.Listen); !loopback(host) && e.Trust == "" && e.TLS.CA == "" {
		return fieldErr("nats.embedded.listen", "%q is beyond loopback, where anyone could publish decisions and manage API clients: "+
			"set nats.embedded.trust (a natsauth trust file; every client then needs credentials) or nats.embedded.tls.ca "+
			"(client certificates), or listen on 127.0.0.1", e.Listen)
	}
	if e.StoreDir == "" && c.DataDir == "" {
		return fieldErr("nats.embedded.store_dir", "required when data_dir is empty")
	}
	if e.Cluster.Listen != "" {
		if err := checkHostPort("nats.embedded.cluster.listen", e.Cluster.Listen); err != nil {
			return err
		}
		if e.Cluster.Name == "" {
			return fieldErr("nats.embedded.cluster.name", "required with cluster.listen")
		}
		if e.ServerName == "" {
			return fieldErr("nats.embedded.server_name", "required in a cluster, unique per node")
		}
	}
	return nil
}

// loopback reports whether host (of a listen address) is a loopback
// address or localhost; "" and 0.0.0.0 listen everywhere.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c Config) validateStream() error {
	s := c.Stream
	switch {
	case s.Replicas < 1 || s.Replicas > 5:
		return fieldErr("stream.replicas", "%d is not in 1-5", s.Replicas)
	case s.DuplicateWindow <= 0:
		return fieldErr("stream.duplicate_window", "must be positive")
	case s.MaxAge < s.DuplicateWindow:
		return fieldErr("stream.max_age", "%s is shorter than duplicate_window %s", s.MaxAge, s.DuplicateWindow)
	}
	if s.Partitions < 1 || s.Partitions > wire.MaxPartitions {
		return fieldErr("stream.partitions", "%d is not in 1-%d", s.Partitions, wire.MaxPartitions)
	}
	return nil
}

func (c Config) validateConsumer() error {
	k := c.Consumer
	switch {
	case k.Durable == "":
		return fieldErr("consumer.durable", "required")
	case k.MaxDeliver < 1:
		return fieldErr("consumer.max_deliver", "must be at least 1")
	case k.AckWait < time.Second:
		return fieldErr("consumer.ack_wait", "%s is under 1s", k.AckWait)
	case k.MaxAckPending < 1:
		return fieldErr("consumer.max_ack_pending", "must be at least 1")
	}
	for i, d := range k.Backoff {
		if d <= 0 {
			return fieldErr(fmt.Sprintf("consumer.backoff[%d]", i), "must be positive")
		}
	}
	return nil
}

func (c Config) validateRelay() error {
	r := c.Relay
	for _, f := range []struct {
		name string
		d    time.Duration
	}{
		{"relay.channel_timeout", r.ChannelTimeout}, {"relay.idempotency_ttl", r.IdempotencyTTL},
		{"relay.assignment_ttl", r.AssignmentTTL}, {"relay.pending_ttl", r.PendingTTL},
		{"relay.order_view_ttl", r.OrderViewTTL},
		{"relay.outbox_duplicate", r.OutboxDuplicate},
	} {
		if f.d <= 0 {
			return fieldErr(f.name, "must be positive")
		}
	}
	if r.ReadyResend < 0 || r.ReadyResend > 12*time.Hour {
		return fieldErr("relay.ready_resend", "%s is not in 0-12h (0 turns re-sending off)", r.ReadyResend)
	}
	longest := r.ChannelTimeout
	for name, d := range r.ChannelTimeouts {
		if d <= 0 {
			return fieldErr("relay.channel_timeouts."+name, "must be positive")
		}
		longest = max(longest, d)
	}
	if c.Consumer.AckWait <= longest+time.Second {
		return fieldErr("consumer.ack_wait", "%s must exceed the longest channel timeout %s by more than 1s, or decisions still being delivered are redelivered", c.Consumer.AckWait, longest)
	}
	if r.Workers < 1 || r.Workers > 4096 {
		return fieldErr("relay.workers", "%d is not in 1-4096", r.Workers)
	}
	if r.Window < r.Workers || r.Window > 65536 {
		return fieldErr("relay.window", "%d is not in workers (%d)-65536", r.Window, r.Workers)
	}
	if r.Connections < 1 || r.Connections > 64 {
		return fieldErr("relay.connections", "%d is not in 1-64", r.Connections)
	}
	if r.ChannelWorkers < 1 || r.ChannelWorkers > 4096 {
		return fieldErr("relay.channel_workers", "%d is not in 1-4096", r.ChannelWorkers)
	}
	return nil
}

func (c Config) validateMisc() error {
	if err := checkHostPort("http.listen", c.HTTP.Listen); err != nil {
		return err
	}
	if err := c.HTTP.validateLimits(); err != nil {
		return err
	}
	if c.Locale != "zh-CN" && c.Locale != "en" {
		return fieldErr("locale", "%q is not zh-CN or en", c.Locale)
	}
	if c.Ops.SampleEvery < 100*time.Millisecond || c.Ops.KPIEvery < 100*time.Millisecond {
		return fieldErr("ops.sample_every", "sample_every and kpi_every must be at least 100ms")
	}
	if c.Ops.Hours < 1 || c.Ops.Hours > 48 {
		return fieldErr("ops.hours", "%d is not in 1-48", c.Ops.Hours)
	}
	if c.Demo.AutoAssign && (c.Demo.Riders < 1 || c.Demo.Riders > 1000) {
		return fieldErr("demo.riders", "%d is not in 1-1000", c.Demo.Riders)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fieldErr("log_level", "%q is not debug, info, warn or error", c.LogLevel)
	}
	return nil
}

func (h HTTP) validateLimits() error {
	for _, f := range []struct {
		name string
		d    time.Duration
	}{{"http.read_timeout", h.ReadTimeout}, {"http.write_timeout", h.WriteTimeout}, {"http.idle_timeout", h.IdleTimeout}} {
		if f.d <= 0 {
			return fieldErr(f.name, "must be positive")
		}
	}
	if h.MaxBody < 1024 || h.MaxBody > 16<<20 {
		return fieldErr("http.max_body", "%d is not in 1024-16777216 bytes", h.MaxBody)
	}
	return nil
}
