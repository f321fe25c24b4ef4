// Package config is the firmware-bridge's configuration: defaults, YAML
// parsing with ${VAR} expansion (internal/yamlconf), and validation whose
// errors name the field.
package config

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"time"

	"github.com/passline/passline/internal/tracing"

	"github.com/passline/passline/firmware-bridge/escpos"
	"github.com/passline/passline/firmware-bridge/sim"
	"github.com/passline/passline/internal/yamlconf"
	"github.com/passline/passline/wire"
	"github.com/passline/passline/wire/tlsconf"
)

// Config is the whole bridge configuration.
type Config struct {
	// Store is the store id every event is published under.
	Store string `yaml:"store"`
	// DeviceID is the bridge's own id in its status topic (and last will).
	DeviceID string `yaml:"device_id"`
	// LogLevel is debug, info, warn or error.
	LogLevel string  `yaml:"log_level"`
	MQTT     MQTT    `yaml:"mqtt"`
	Sim      Sim     `yaml:"sim"`
	ESCPOS   ESCPOS  `yaml:"escpos"`
	Scale    Scale   `yaml:"scale"`
	Evdev    Evdev   `yaml:"evdev"`
	Scanner  Scanner `yaml:"scanner"`
	GPIO     GPIO    `yaml:"gpio"`
	HTTP     HTTP    `yaml:"http"`
	// Tracing exports the bridge's spans by OTLP when it names an endpoint.
	Tracing tracing.Config `yaml:"tracing"`
}

// HTTP is the bridge's own HTTP listener: GET /metrics (Prometheus).
type HTTP struct {
	// Listen is host:port; empty serves nothing, port 0 picks a free port
	// (see app.Main.HTTPAddr). Keep it on loopback or the box's LAN.
	Listen string `yaml:"listen"`
}

// MQTT is the broker the bridge publishes to.
type MQTT struct {
	URL      string `yaml:"url"` // tcp://host:port, ssl://host:port or ws://...
	Username string `yaml:"username"`
	Password string `yaml:"password"` // use ${VAR}, never a literal
	// ClientID defaults to {store}-bridge; two bridges with one id knock
	// each other off the broker.
	ClientID       string        `yaml:"client_id"`
	KeepAlive      time.Duration `yaml:"keepalive"`
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// PublishTimeout bounds how long a driver waits for the broker's ack;
	// past it the event stays queued in memory and the driver carries on.
	PublishTimeout time.Duration `yaml:"publish_timeout"`
	// TLS of the broker connection (use a tls://, ssl:// or wss:// url):
	// ca to trust the broker, cert and key for mutual TLS.
	TLS tlsconf.Config `yaml:"tls"`
}

// Sim is the simulated kitchen driver.
type Sim struct {
	Enabled bool `yaml:"enabled"`
	// Stores to simulate; empty means just Store.
	Stores []string `yaml:"stores"`
	Seed   uint64   `yaml:"seed"`
	// Tick is how often the kitchen is stepped.
	Tick    time.Duration `yaml:"tick"`
	Kitchen sim.Config    `yaml:",inline"`
}

// ESCPOS is the print proxy between the POS and the ticket printer.
type ESCPOS struct {
	Enabled  bool   `yaml:"enabled"`
	DeviceID string `yaml:"device_id"`
	Listen   string `yaml:"listen"`  // where the POS prints to, e.g. :9100
	Printer  string `yaml:"printer"` // the real printer, host:port
	// CodePage is the printer's default code page: cp437, cp850, cp858,
	// cp1252, cp866, gb18030, gbk, big5, shift_jis or utf-8.
	CodePage    string           `yaml:"code_page"`
	DialTimeout time.Duration    `yaml:"dial_timeout"`
	IdleTimeout time.Duration    `yaml:"idle_timeout"` // a silent POS connection is closed after this
	Patterns    []escpos.Pattern `yaml:"patterns"`
	// ScanCode prints a scannable code of the order id before the cut of
	// every ticket a pattern reads, for the barcode scanner at the pass
	// (scanner): qr, code128 (printers without QR), or off (the default,
	// for every pattern). When on, a pattern's scan_code overrides it.
	ScanCode string `yaml:"scan_code"`
}

// Scale is a continuous-output serial scale.
type Scale struct {
	Enabled  bool   `yaml:"enabled"`
	DeviceID string `yaml:"device_id"`
	Port     string `yaml:"port"` // e.g. /dev/ttyUSB0
	Baud     int    `yaml:"baud"`
	// StableReadings is how many consecutive readings within Tolerance make
	// a weight stable (on top of the scale's own ST flag).
	StableReadings int     `yaml:"stable_readings"`
	ToleranceGrams float64 `yaml:"tolerance_grams"`
	// MinGrams: a stable weight below it is an empty scale, never published.
	MinGrams float64 `yaml:"min_grams"`
	// Retry is the pause between attempts to reopen an unplugged scale.
	Retry time.Duration `yaml:"retry"`
}

// Evdev is a USB HID bump bar read through Linux input events.
type Evdev struct {
	Enabled  bool   `yaml:"enabled"`
	DeviceID string `yaml:"device_id"`
	Device   string `yaml:"device"`  // /dev/input/by-id/...-event-kbd
	Station  string `yaml:"station"` // the bar's station; empty = whole kitchen
	// Preset is a built-in key map ("bump10"); Keys add to or override it.
	Preset string `yaml:"preset"`
	// Keys maps key names (KEY_1) or codes ("2") to actions: bump, start,
	// recall, mark, or select:N.
	Keys  map[string]string `yaml:"keys"`
	Retry time.Duration     `yaml:"retry"`
}

// Scanner is a USB/HID barcode scanner at the pass, read through Linux
// input events like the bump bar: it types the code on the ticket (the
// print proxy's QR code, escpos.scan_code) and Enter, and each code is
// published as a scan event, which the agent takes as the order's ready
// report. Set the scanner to a US keyboard layout and Enter as suffix.
type Scanner struct {
	Enabled  bool   `yaml:"enabled"`
	DeviceID string `yaml:"device_id"`
	Device   string `yaml:"device"` // /dev/input/by-id/usb-...-event-kbd
	// Gap is the longest pause between two characters of one code; keys
	// typed before a longer pause are dropped (a stray key press).
	Gap   time.Duration `yaml:"gap"`
	Retry time.Duration `yaml:"retry"`
}

// GPIO is buttons and outputs on the box's header.
type GPIO struct {
	Enabled  bool          `yaml:"enabled"`
	DeviceID string        `yaml:"device_id"`
	Debounce time.Duration `yaml:"debounce"`
	Poll     time.Duration `yaml:"poll"`
	Buttons  []Button      `yaml:"buttons"`
	Outputs  []Output      `yaml:"outputs"`
}

// Button is a push button that acts as a bump bar key.
type Button struct {
	Pin     string `yaml:"pin"`     // periph name, e.g. GPIO17
	Action  string `yaml:"action"`  // bump, start, recall, mark, select:N
	Station string `yaml:"station"` // empty = whole kitchen
	// Pull is up (button to ground, pressed = low), down, or none.
	Pull string `yaml:"pull"`
}

// Output is an LED or buzzer driven by MQTT commands.
type Output struct {
	Name      string `yaml:"name"` // last level of the command topic
	Pin       string `yaml:"pin"`
	ActiveLow bool   `yaml:"active_low"`
}

// DefaultConfig returns the defaults: broker on localhost, every driver off.
func DefaultConfig() Config {
	return Config{
		DeviceID: "bridge",
		LogLevel: "info",
		MQTT: MQTT{
			URL: "tcp://127.0.0.1:1883", KeepAlive: 30 * time.Second,
			ConnectTimeout: 10 * time.Second, PublishTimeout: 5 * time.Second,
		},
		Sim:     Sim{Seed: 1, Tick: 100 * time.Millisecond, Kitchen: sim.DefaultConfig()},
		ESCPOS:  ESCPOS{DeviceID: "printer-1", Listen: ":9100", CodePage: "cp437", DialTimeout: 5 * time.Second, IdleTimeout: 2 * time.Minute},
		Scale:   Scale{DeviceID: "scale-1", Baud: 9600, StableReadings: 3, ToleranceGrams: 2, MinGrams: 20, Retry: 2 * time.Second},
		Evdev:   Evdev{DeviceID: "bumpbar-1", Preset: "bump10", Retry: 2 * time.Second},
		Scanner: Scanner{DeviceID: "scanner-1", Gap: time.Second, Retry: 2 * time.Second},
		GPIO:    GPIO{DeviceID: "gpio-1", Debounce: 30 * time.Millisecond, Poll: 5 * time.Millisecond},
	}
}

// Parse decodes r's YAML over the defaults with internal/yamlconf (unknown
// fields are errors; ${VAR} from the environment, $$ for a literal $) and
// validates the result.
func Parse(r io.Reader) (Config, error) { return yamlconf.Parse(r, DefaultConfig()) }

// Load parses the file at path; errors name it.
func Load(path string) (Config, error) { return yamlconf.Load(path, DefaultConfig()) }

// ClientID is the MQTT client id: mqtt.client_id, else {store}-bridge.
func (c *Config) ClientID() string {
	if c.MQTT.ClientID != "" {
		return c.MQTT.ClientID
	}
	return c.Store + "-bridge"
}

// SimStores is the list of stores the sim driver simulates.
func (c *Config) SimStores() []string {
	if len(c.Sim.Stores) > 0 {
		return c.Sim.Stores
	}
	return []string{c.Store}
}

// Validate checks every field; the error names the first bad one.
func (c *Config) Validate() error {
	if err := c.Tracing.Validate(); err != nil {
		return err
	}
	if !wire.ValidToken(c.Store) {
		return fmt.Errorf("store: %q is not a store id (1-64 of A-Z a-z 0-9 _ -)", c.Store)
	}
	if !wire.ValidToken(c.DeviceID) {
		return fmt.Errorf("device_id: %q is not a device id", c.DeviceID)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log_level: %q is not debug, info, warn or error", c.LogLevel)
	}
	if c.HTTP.Listen != "" {
		if err := checkHostPort("http.listen", c.HTTP.Listen); err != nil {
			return err
		}
	}
	for _, check := range []func() error{c.validateMQTT, c.validateSim, c.validateESCPOS, c.validateScale, c.validateEvdev, c.validateScanner, c.validateGPIO} {
		if err := check(); err != nil {
			return err
		}
	}
	if !c.Sim.Enabled && !c.ESCPOS.Enabled && !c.Scale.Enabled && !c.Evdev.Enabled && !c.Scanner.Enabled && !c.GPIO.Enabled {
		return errors.New("sim.enabled: no driver is enabled; enable sim, escpos, scale, evdev, scanner or gpio")
	}
	return nil
}

func (c *Config) validateMQTT() error {
	u, err := url.Parse(c.MQTT.URL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("mqtt.url: %q is not a broker URL like tcp://host:1883", c.MQTT.URL)
	}
	switch u.Scheme {
	case "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss":
	default:
		return fmt.Errorf("mqtt.url: scheme %q is not tcp, ssl, ws or wss", u.Scheme)
	}
	if err := c.MQTT.TLS.Validate("mqtt.tls"); err != nil {
		return err
	}
	if c.MQTT.TLS.Enabled() && tlsconf.PlainMQTT(u.Scheme) {
		return fmt.Errorf("mqtt.url: %q is not encrypted but mqtt.tls is set; use tls://host:8883 or wss://", c.MQTT.URL)
	}
	if id := c.ClientID(); len(id) > 128 || id == "" {
		return fmt.Errorf("mqtt.client_id: %q must be 1-128 characters", id)
	}
	for name, d := range map[string]time.Duration{"mqtt.keepalive": c.MQTT.KeepAlive, "mqtt.connect_timeout": c.MQTT.ConnectTimeout, "mqtt.publish_timeout": c.MQTT.PublishTimeout} {
		if d <= 0 {
			return fmt.Errorf("%s: must be positive", name)
		}
	}
	return nil
}

func (c *Config) validateSim() error {
	if !c.Sim.Enabled {
		return nil
	}
	if c.Sim.Tick <= 0 || c.Sim.Tick > time.Minute {
		return fmt.Errorf("sim.tick: %s is not in (0, 1m]", c.Sim.Tick)
	}
	for i, s := range c.SimStores() {
		if !wire.ValidToken(s) {
			return fmt.Errorf("sim.stores[%d]: %q is not a store id", i, s)
		}
		k := c.Sim.Kitchen
		k.Store = s
		if err := k.Validate(); err != nil {
			return fmt.Errorf("sim.%w", err)
		}
	}
	return nil
}

func checkHostPort(field, addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%s: %q is not host:port", field, addr)
	}
	return nil
}
