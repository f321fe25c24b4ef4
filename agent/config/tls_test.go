package config_test

import (
	"strings"
	"testing"

	"github.com/passline/passline/agent/config"
	"github.com/passline/passline/wire/tlsconf/tlstest"
)

// TestTLSFields: TLS sections are validated with errors naming the field.
func TestTLSFields(t *testing.T) {
	f := tlstest.New(t, "agent")
	base := "store: s1\ndata_dir: /tmp/x\n"
	for _, tc := range []struct {
		name, yaml, want string // want "" means valid
	}{
		{"all", "mqtt: {url: tls://127.0.0.1:8883, tls: {ca: " + f.CA + ", cert: " + f.Cert + ", key: " + f.Key + "}}\nnats: {url: tls://127.0.0.1:4222, tls: {ca: " + f.CA + "}}", ""},
		{"embedded", "mqtt: {tls: {ca: " + f.CA + "}, embedded: {enabled: true, listen: 127.0.0.1:0, tls: {cert: " + f.Cert + ", key: " + f.Key + "}}}", ""},
		{"nats ca", "nats: {url: tls://127.0.0.1:4222, tls: {ca: " + f.CA + "}}", ""},
		{"plain url with tls", "mqtt: {url: tcp://127.0.0.1:1883, tls: {ca: " + f.CA + "}}", "mqtt.url: "},
		{"plain websocket with tls", "mqtt: {url: ws://127.0.0.1:8080, tls: {ca: " + f.CA + "}}", "mqtt.url: "},
		{"mqtt cert without key", "mqtt: {url: tls://127.0.0.1:8883, tls: {cert: " + f.Cert + "}}", "mqtt.tls.key: required"},
		{"nats ca missing", "nats: {url: tls://127.0.0.1:4222, tls: {ca: /nonexistent/ca.pem}}", "nats.tls.ca: stat /nonexistent/ca.pem"},
		{"embedded without cert", "mqtt: {embedded: {enabled: true, listen: 127.0.0.1:0, tls: {ca: " + f.CA + "}}}", "mqtt.embedded.tls.cert: required"},
	} {
		c, err := config.Parse(strings.NewReader(base + tc.yaml + "\n"))
		if err == nil {
			err = c.Validate()
		}
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
