package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/passline/passline/agent/rules"
	"github.com/passline/passline/wire"
	"github.com/passline/passline/wire/tlsconf"
)

// Validate checks every field; each error names its field, e.g.
// "mqtt.url: ...". All problems are reported at once.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	// named takes an error that names its field already (tlsconf, rules).
	named := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	if !wire.ValidToken(c.Store) {
		bad("store", "%q is not a store id (1-%d characters of A-Z a-z 0-9 _ -)", c.Store, wire.MaxTokenLen)
	}
	if c.Category != "" && !wire.ValidToken(c.Category) {
		bad("category", "%q is not a category tag (1-%d characters of A-Z a-z 0-9 _ -)", c.Category, wire.MaxTokenLen)
	}
	if c.City != "" && !wire.ValidToken(c.City) {
		bad("city", "%q is not a city tag (1-%d characters of A-Z a-z 0-9 _ -)", c.City, wire.MaxTokenLen)
	}
	if c.DataDir == "" {
		bad("data_dir", "missing")
	}
	named(c.Tracing.Validate())
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "%q is not debug, info, warn or error", c.LogLevel)
	}
	c.validateMQTT(bad, named)
	c.validateNATS(bad, named)
	if _, _, err := net.SplitHostPort(c.HTTP.Listen); c.HTTP.Listen != "" && err != nil {
		bad("http.listen", "%v", err)
	}
	c.validateParams(bad)
	named(c.validateRules())
	c.validateGPIO(bad)
	c.validateLimits(bad)
	return errors.Join(errs...)
}

type badFunc func(field, format string, args ...any)

func (c *Config) validateMQTT(bad badFunc, named func(error)) {
	if c.MQTT.ClientID == "" {
		bad("mqtt.client_id", "missing")
	}
	named(c.MQTT.TLS.Validate("mqtt.tls"))
	if c.MQTT.Embedded.Enabled {
		named(c.MQTT.Embedded.TLS.ValidateServer("mqtt.embedded.tls"))
		e := c.MQTT.Embedded
		if host, _, err := net.SplitHostPort(e.Listen); err != nil {
			bad("mqtt.embedded.listen", "%v", err)
		} else if !loopback(host) && e.PasswordFile == "" && e.TLS.CA == "" {
			bad("mqtt.embedded.listen", "%q is reachable beyond loopback: set mqtt.embedded.password_file, or tls.ca to require client certificates", e.Listen)
		}
		return
	}
	if u, err := url.Parse(c.MQTT.URL); err != nil || u.Host == "" {
		bad("mqtt.url", "%q is not a broker URL like tcp://host:1883", c.MQTT.URL)
	} else if c.MQTT.TLS.Enabled() && tlsconf.PlainMQTT(u.Scheme) {
		bad("mqtt.url", "%q is not encrypted but mqtt.tls is set; use tls://host:8883 or wss://", c.MQTT.URL)
	}
}

func (c *Config) validateNATS(bad badFunc, named func(error)) {
	if u, err := url.Parse(c.NATS.URL); err != nil || u.Host == "" {
		bad("nats.url", "%q is not a server URL like nats://host:4222", c.NATS.URL)
	}
	named(c.NATS.TLS.Validate("nats.tls"))
	if c.NATS.Replicas < 1 || c.NATS.Replicas > 5 {
		bad("nats.replicas", "%d is not 1-5", c.NATS.Replicas)
	}
	if c.NATS.PublishWindow < 1 || c.NATS.PublishWindow > 4096 {
		bad("nats.publish_window", "%d is not 1-4096", c.NATS.PublishWindow)
	}
	if c.NATS.AckTimeout <= 0 {
		bad("nats.ack_timeout", "must be positive")
	}
	if c.NATS.DuplicateWindow <= 0 || c.NATS.MaxAge < c.NATS.DuplicateWindow {
		bad("nats.duplicate_window", "must be positive and no longer than nats.max_age")
	}
}

func (c *Config) validateParams(bad badFunc) {
	p := c.Params
	if p.PredictionWindow <= 0 {
		bad("params.prediction_window", "must be positive")
	}
	if p.ConfidenceThreshold <= 0 || p.ConfidenceThreshold > 1 {
		bad("params.confidence_threshold", "%v is not in (0,1]", p.ConfidenceThreshold)
	}
	if p.RetryInterval <= 0 {
		bad("params.retry_interval", "must be positive")
	}
	if p.LeadTime < 0 {
		bad("params.lead_time", "must not be negative")
	}
}

// validateRules compiles the rules as the agent will run them, so a rule
// that would be refused at startup (syntax, unknown name, wrong type, a
// ready that does not depend on a kitchen event) is refused here: the
// error is Compile's, one *rules.RuleError per refusal, each naming its
// rule by index and name, with line and column.
func (c *Config) validateRules() error {
	if len(c.Rules) == 0 {
		return nil
	}
	_, err := rules.Compile(c.Rules)
	return err
}

func (c *Config) validateGPIO(bad badFunc) {
	if !c.GPIO.Enabled {
		return
	}
	if !wire.ValidToken(c.GPIO.DeviceID) {
		bad("gpio.device_id", "%q is not a token", c.GPIO.DeviceID)
	}
	if c.GPIO.Debounce < 0 {
		bad("gpio.debounce", "must not be negative")
	}
	if len(c.GPIO.Pins) == 0 {
		bad("gpio.pins", "enabled with no pins")
	}
	for i, p := range c.GPIO.Pins {
		f := fmt.Sprintf("gpio.pins[%d]", i)
		if p.Pin == "" {
			bad(f+".pin", "missing")
		}
		if !wire.KeyAction(p.Action).Valid() {
			bad(f+".action", "%q is not bump, start, recall, mark or select", p.Action)
		}
		if p.Action == string(wire.KeySelect) && (p.Position < 1 || p.Position > wire.MaxPosition) {
			bad(f+".position", "select needs a position 1-%d", wire.MaxPosition)
		}
	}
}

func (c *Config) validateLimits(bad badFunc) {
	if c.Ingest.Queue < 1 {
		bad("ingest.queue", "must be positive")
	}
	if c.Ingest.MaxBatch < 1 {
		bad("ingest.max_batch", "must be positive")
	}
	if c.Ingest.StaleAfter < 0 {
		bad("ingest.stale_after", "must not be negative")
	}
	if c.Ingest.RecallWindow < 0 || c.Ingest.RecallWindow > maxRecallWindow {
		bad("ingest.recall_window", "must be 0 (no limit) to 24h")
	}
	if c.Outbox.MaxEntries < 1 {
		bad("outbox.max_entries", "must be positive")
	}
	if c.Outbox.MaxBytes < wire.MaxPayload {
		bad("outbox.max_bytes", "must be at least %d", wire.MaxPayload)
	}
	if c.Outbox.TTL <= 0 {
		bad("outbox.ttl", "must be positive")
	}
	for f, n := range map[string]int{"retain.history": c.Retain.History, "retain.rejects": c.Retain.Rejects, "retain.seen": c.Retain.Seen} {
		if n < 1 {
			bad(f, "must be positive")
		}
	}
	if c.Retain.FinishedTTL <= 0 || c.Retain.OrphanTTL <= 0 {
		bad("retain.finished_ttl", "finished_ttl and orphan_ttl must be positive")
	}
	if c.Lock <= 0 {
		bad("lock_timeout", "must be positive")
	}
}

// loopback reports whether a listen host is reachable from this machine
// only: localhost or a loopback address (not "", which is every interface).
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// maxRecallWindow bounds ingest.recall_window: a day-old bump is history.
const maxRecallWindow = 24 * time.Hour
