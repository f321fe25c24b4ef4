// Package config is the agent's configuration: a YAML file with ${VAR}
// expansion (internal/yamlconf), decoded over DefaultConfig and checked by
// Validate.
package config

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/passline/passline/internal/tracing"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/internal/yamlconf"
	"github.com/passline/passline/wire/tlsconf"
)

// Config is the whole agent configuration.
type Config struct {
	// Store is this box's store id; it names the MQTT topics and NATS subject.
	Store string `yaml:"store"`
	// Category is the store's category tag (its cuisine, say): the key of
	// the fleet prior it starts its prep-time model from, in KV
	// PASSLINE_MODEL_PRIOR. Empty: the fleet's default prior.
	Category string `yaml:"category"`
	// City is the store's city tag, told to the cloud with every ready
	// decision so the fleet prior's fit can group by it. Optional.
	City string `yaml:"city"`
	// DataDir holds the state db (state.db) and the embedded broker's data.
	DataDir string `yaml:"data_dir"`
	// LogLevel is debug, info, warn or error.
	LogLevel string        `yaml:"log_level"`
	MQTT     MQTT          `yaml:"mqtt"`
	NATS     NATS          `yaml:"nats"`
	HTTP     HTTP          `yaml:"http"`
	Params   agent.Params  `yaml:"params"`
	Rules    []agent.Rule  `yaml:"rules"`
	GPIO     GPIO          `yaml:"gpio"`
	Ingest   Ingest        `yaml:"ingest"`
	Outbox   Outbox        `yaml:"outbox"`
	Retain   Retain        `yaml:"retain"`
	Lock     time.Duration `yaml:"lock_timeout"` // how long to wait for the state db lock
	// Tracing exports the agent's spans by OTLP when it names an endpoint.
	Tracing tracing.Config `yaml:"tracing"`
	Model   Model          `yaml:"model"`
}

// Model is how the prep-time model starts.
type Model struct {
	// WarmHistory is a history CSV (as for "passline-agent model import")
	// learned at start when the state db holds no model for the store
	// yet: a new box, or the demo, predicts in its kitchen's range from
	// the first order. A stored model is never replaced.
	WarmHistory string `yaml:"warm_history"`
}

// MQTT is where device events come from.
type MQTT struct {
	URL string `yaml:"url"`
	// ClientID must be stable across restarts (persistent session); empty
	// means "{store}-agent".
	ClientID string `yaml:"client_id"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// TLS of the connection to the broker (use a tls:// url): ca to trust
	// the broker, cert and key for mutual TLS. With the embedded broker's
	// TLS on, the agent connects to it through this section too.
	TLS      tlsconf.Config `yaml:"tls"`
	Embedded Embedded       `yaml:"embedded"`
}

// Embedded is the in-process MQTT broker for boxes without Mosquitto.
type Embedded struct {
	Enabled bool `yaml:"enabled"`
	// Listen is the TCP address; port 0 picks a free port (see app.Main.MQTTAddr).
	Listen string `yaml:"listen"`
	// Persist keeps the broker's sessions and in-flight messages in
	// DataDir/broker.db so a broker restart loses no QoS 1 message.
	Persist bool `yaml:"persist"`
	// TLS makes the listener TLS-only: cert and key required, ca to
	// require client certificates signed by it.
	TLS tlsconf.Config `yaml:"tls"`
	// PasswordFile, when set, lists the only clients the broker lets in:
	// one "username:bcrypt-hash" per line (`passline-agent mqtt-passwd
	// USER` prints one). A listener beyond loopback needs it, or client
	// certificates (tls.ca). The agent's own client id is refused to every
	// client either way.
	PasswordFile string `yaml:"password_file"`
}

// NATS is where decisions go.
type NATS struct {
	URL  string `yaml:"url"`
	Name string `yaml:"name"`
	// Creds is a NATS credentials file; empty means none.
	Creds string `yaml:"creds"`
	// TLS of the uplink: ca to trust the servers, cert and key for mutual
	// TLS; empty: plain, or the system roots for a tls:// url.
	TLS tlsconf.Config `yaml:"tls"`
	// Replicas of the DECISIONS stream when the agent has to create it.
	Replicas int `yaml:"replicas"`
	// DuplicateWindow of the stream when the agent creates it.
	DuplicateWindow time.Duration `yaml:"duplicate_window"`
	// MaxAge of the stream when the agent creates it.
	MaxAge time.Duration `yaml:"max_age"`
	// PublishWindow bounds async publishes in flight.
	PublishWindow int `yaml:"publish_window"`
	// AckTimeout is how long to wait for one PubAck.
	AckTimeout time.Duration `yaml:"ack_timeout"`
	// ReplayAfter: a decision older than this when published is marked replayed.
	ReplayAfter time.Duration `yaml:"replay_after"`
}

// HTTP is the local status server.
type HTTP struct {
	Listen string `yaml:"listen"` // port 0 picks a free port (see app.Main.HTTPAddr)
}

// GPIO is the bump bar wired to the box's pins.
type GPIO struct {
	Enabled  bool          `yaml:"enabled"`
	DeviceID string        `yaml:"device_id"`
	Debounce time.Duration `yaml:"debounce"`
	Pins     []Pin         `yaml:"pins"`
}

// Pin is one button on a GPIO pin and the key it sends.
type Pin struct {
	Pin       string `yaml:"pin"`    // e.g. GPIO17
	Action    string `yaml:"action"` // bump, start, recall, mark, select
	Station   string `yaml:"station"`
	Position  int    `yaml:"position"`   // for select
	ActiveLow bool   `yaml:"active_low"` // pressed pulls the pin low (pull-up wiring)
}

// Ingest bounds the path from MQTT to the state db.
type Ingest struct {
	Queue    int `yaml:"queue"`     // events waiting for the writer
	MaxBatch int `yaml:"max_batch"` // events per transaction
	// AutoStart marks orders started on accept (stores without a start key).
	AutoStart bool `yaml:"auto_start"`
	// StaleAfter is the stale horizon: an event stamped longer ago than
	// this when it arrives is recorded (history, dedupe) but produces no
	// rider decision, nor does an order it creates; 0 turns it off.
	StaleAfter time.Duration `yaml:"stale_after"`
	// RecallWindow is how long after its bump (or scan) an order may be
	// recalled from the bump bar; a later recall is refused, logged and
	// kept as a reject (recall_window), and the order stays ready. 0 means
	// no limit.
	RecallWindow time.Duration `yaml:"recall_window"`
}

// Outbox bounds the store-and-forward queue of decisions.
type Outbox struct {
	MaxEntries int           `yaml:"max_entries"`
	MaxBytes   int64         `yaml:"max_bytes"`
	TTL        time.Duration `yaml:"ttl"` // decision lifetime for the built-in decider
}

// Retain bounds the history, rejects and event-dedupe buckets.
type Retain struct {
	History     int           `yaml:"history"`
	Rejects     int           `yaml:"rejects"`
	Seen        int           `yaml:"seen"`         // event ids remembered for de-duplication
	FinishedTTL time.Duration `yaml:"finished_ttl"` // a done order with no pickup is closed after this
	OrphanTTL   time.Duration `yaml:"orphan_ttl"`   // a placeholder whose ticket never came is rejected after this
}

// DefaultConfig returns the defaults every file is decoded over.
func DefaultConfig() Config {
	return Config{
		DataDir:  "/var/lib/passline",
		LogLevel: "info",
		MQTT:     MQTT{URL: "tcp://127.0.0.1:1883", Embedded: Embedded{Listen: "127.0.0.1:1883"}},
		NATS: NATS{URL: "nats://127.0.0.1:4222", Replicas: 1, DuplicateWindow: 2 * time.Minute,
			MaxAge: 7 * 24 * time.Hour, PublishWindow: 256, AckTimeout: 5 * time.Second, ReplayAfter: 30 * time.Second},
		HTTP:   HTTP{Listen: "127.0.0.1:8070"},
		Params: agent.DefaultParams(),
		GPIO:   GPIO{DeviceID: "gpio", Debounce: 30 * time.Millisecond},
		Ingest: Ingest{Queue: 4096, MaxBatch: 512, StaleAfter: 5 * time.Minute, RecallWindow: 2 * time.Minute},
		Outbox: Outbox{MaxEntries: 100_000, MaxBytes: 64 << 20, TTL: 2 * time.Hour},
		Retain: Retain{History: 50_000, Rejects: 1_000, Seen: 200_000, FinishedTTL: 3 * time.Hour, OrphanTTL: time.Hour},
		Lock:   3 * time.Second,
	}
}

// Parse decodes r's YAML over DefaultConfig with internal/yamlconf
// (unknown fields are errors; ${VAR} from the environment, $$ for a
// literal $). It does not Validate.
func Parse(r io.Reader) (Config, error) {
	c := DefaultConfig()
	if err := yamlconf.Decode(r, &c); err != nil {
		return Config{}, err
	}
	if c.MQTT.ClientID == "" && c.Store != "" {
		c.MQTT.ClientID = c.Store + "-agent"
	}
	return c, nil
}

// Load reads, parses and validates the config file at path.
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	c, err := Parse(f)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}
