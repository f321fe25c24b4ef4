package config_test

import (
	"strings"
	"testing"

	"github.com/passline/passline/firmware-bridge/config"
	"github.com/passline/passline/wire/tlsconf/tlstest"
)

// TestMQTTTLSValidated: mqtt.tls errors name the field; TLS needs an
// encrypted url scheme.
func TestMQTTTLSValidated(t *testing.T) {
	f := tlstest.New(t, "bridge")
	for _, tc := range []struct {
		name, mqtt, want string // want "" means valid
	}{
		{"ca", "{url: tls://127.0.0.1:8883, tls: {ca: " + f.CA + "}}", ""},
		{"mutual", "{url: ssl://127.0.0.1:8883, tls: {ca: " + f.CA + ", cert: " + f.Cert + ", key: " + f.Key + "}}", ""},
		{"plain scheme", "{url: tcp://127.0.0.1:1883, tls: {ca: " + f.CA + "}}", "mqtt.url: "},
		{"key without cert", "{url: tls://127.0.0.1:8883, tls: {key: " + f.Key + "}}", "mqtt.tls.cert: required"},
		{"missing ca", "{url: tls://127.0.0.1:8883, tls: {ca: /nonexistent.pem}}", "mqtt.tls.ca: stat /nonexistent.pem"},
	} {
		_, err := config.Parse(strings.NewReader("store: s1\nsim: {enabled: true}\nmqtt: " + tc.mqtt + "\n"))
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
