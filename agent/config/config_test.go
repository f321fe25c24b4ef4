package config_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/agent/config"
	"github.com/passline/passline/wire/tlsconf/tlstest"
)

// TestExampleConfigsLoad loads every agent config in configs/, so the
// examples cannot rot.
func TestExampleConfigsLoad(t *testing.T) {
	t.Setenv("PASSLINE_STORE", "store-42")
	t.Setenv("PASSLINE_NATS_URL", "tls://nats.example:4222")
	t.Setenv("PASSLINE_MQTT_USER", "agent")
	t.Setenv("PASSLINE_MQTT_PASSWORD", "secret")
	tlstest.Setenv(t, "agent")
	files, _ := filepath.Glob("../../configs/agent.yaml")
	more, _ := filepath.Glob("../../configs/*/agent.yaml")
	files = append(files, more...)
	if len(files) < 2 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		c, err := config.Load(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if c.MQTT.ClientID != c.Store+"-agent" {
			t.Errorf("%s: client id %q", f, c.MQTT.ClientID)
		}
	}
	c, _ := config.Load("../../configs/agent.yaml")
	if c.Store != "store-42" || c.NATS.URL != "tls://nats.example:4222" || c.Params.RetryInterval != 30*time.Second {
		t.Errorf("production config: %+v", c)
	}
	d, _ := config.Load("../../configs/demo/agent.yaml")
	if d.Store != "demo-1" || !d.MQTT.Embedded.Enabled || d.MQTT.Embedded.Listen != "127.0.0.1:18830" ||
		d.NATS.URL != "nats://127.0.0.1:14222" || d.HTTP.Listen != "127.0.0.1:18070" || d.DataDir != ".demo/agent" {
		t.Errorf("demo config: %+v", d)
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"store: s1\nmqtt: {url: 'nope'}\n", "mqtt.url"},
		{"store: 'bad store'\n", "store:"},
		{"store: s1\nnats: {url: ''}\n", "nats.url"},
		{"store: s1\nparams: {confidence_threshold: 2}\n", "params.confidence_threshold"},
		{"store: s1\ngpio: {enabled: true, pins: [{pin: GPIO4, action: jump}]}\n", "gpio.pins[0].action"},
		{"store: s1\noutbox: {max_entries: 0}\n", "outbox.max_entries"},
		{"store: s1\nrules: [{name: r, when: 'true', emit: shout}]\n", "rules[0]"},
		{"store: s1\nrules: [{name: r, when: 'elapsd > 1', emit: eta}]\n", `rules[0] "r": line 1, column 1: unknown name elapsd`},
		{"store: s1\nrules: [{name: r, when: 'elapsed > 600', emit: ready}]\n", `rules[0] "r": emits ready`},
	}
	for _, tt := range tests {
		c, err := config.Parse(strings.NewReader(tt.yaml))
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: err = %v, want mention of %s", tt.yaml, err, tt.want)
		}
	}
}

func TestParseUnknownFieldAndEnv(t *testing.T) {
	if _, err := config.Parse(strings.NewReader("store: s1\nmqtt: {urll: x}\n")); err == nil || !strings.Contains(err.Error(), "urll") {
		t.Errorf("unknown field: %v", err)
	}
	t.Setenv("S", "from-env")
	c, err := config.Parse(strings.NewReader("store: ${S}\nparams: {lead_time: 7m}\n"))
	if err != nil || c.Store != "from-env" || c.Params.LeadTime != 7*time.Minute || c.Params.PredictionWindow != 15*time.Minute {
		t.Errorf("parse: %+v %v", c, err)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults + store do not validate: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add("store: s1\n")
	f.Add("store: s1\nmqtt: {embedded: {enabled: true, listen: '127.0.0.1:0'}}\n")
	f.Add("params: {retry_interval: 1h}\nrules: [{name: a, when: b, emit: eta}]\n")
	f.Add("gpio: {enabled: true, pins: [{pin: X, action: select, position: 3}]}")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := config.Parse(strings.NewReader(s))
		if err != nil {
			return
		}
		_ = c.Validate() // must not panic
	})
}

// A $ in a value survives: $$ is one literal $ (os.ExpandEnv turned this
// password into "Xk9z!").
func TestDollarInPassword(t *testing.T) {
	c, err := config.Parse(strings.NewReader("mqtt:\n  password: \"Xk9$mQ2$$z!\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.MQTT.Password != "Xk9$mQ2$z!" {
		t.Fatalf("password %q, want Xk9$mQ2$z!", c.MQTT.Password)
	}
}

// TestEmbeddedBrokerBeyondLoopbackNeedsCredentials: an embedded broker
// listening beyond loopback needs a password file or client certificates;
// a loopback-only one needs neither.
func TestEmbeddedBrokerBeyondLoopbackNeedsCredentials(t *testing.T) {
	tests := []struct {
		embedded string
		ok       bool
	}{
		{"{enabled: true, listen: '127.0.0.1:1883'}", true},
		{"{enabled: true, listen: 'localhost:1883'}", true},
		{"{enabled: true, listen: '[::1]:1883'}", true},
		{"{enabled: true, listen: '0.0.0.0:1883'}", false},
		{"{enabled: true, listen: ':1883'}", false},
		{"{enabled: true, listen: '192.168.1.10:1883'}", false},
		{"{enabled: true, listen: '0.0.0.0:1883', password_file: /etc/passline/mqtt.passwd}", true},
		{"{enabled: false, listen: '0.0.0.0:1883'}", true},
	}
	for _, tt := range tests {
		c, err := config.Parse(strings.NewReader("store: s1\nmqtt: {embedded: " + tt.embedded + "}\n"))
		if err != nil {
			t.Fatalf("%s: %v", tt.embedded, err)
		}
		err = c.Validate()
		if (err == nil) != tt.ok || (err != nil && !strings.Contains(err.Error(), "mqtt.embedded.listen")) {
			t.Errorf("%s: err = %v, want ok=%v", tt.embedded, err, tt.ok)
		}
	}
}
