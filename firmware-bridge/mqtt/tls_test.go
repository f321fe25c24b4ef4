package mqtt_test

import (
	"context"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/listeners"

	bridge "github.com/passline/passline/firmware-bridge"
	"github.com/passline/passline/firmware-bridge/mqtt"
	"github.com/passline/passline/internal/mqttlisten"
	"github.com/passline/passline/wire"
	"github.com/passline/passline/wire/tlsconf"
	"github.com/passline/passline/wire/tlsconf/tlstest"
)

// tlsBroker runs mochi with a TLS-only listener using f's certificate.
func tlsBroker(t *testing.T, f tlstest.Files) string {
	t.Helper()
	stls, err := tlsconf.Config{Cert: f.Cert, Key: f.Key}.Server()
	if err != nil {
		t.Fatal(err)
	}
	s, addr, err := serveBroker(t, listeners.Config{ID: "tls", Address: "127.0.0.1:0", TLSConfig: stls})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mqttlisten.Shutdown(s) })
	return "tls://" + addr
}

// TestBridgeOverTLS: the bridge trusting the broker's CA connects and
// publishes over TLS; trusting another CA, every handshake is refused and
// it never comes online.
func TestBridgeOverTLS(t *testing.T) {
	ca, other := tlstest.New(t, "broker"), tlstest.New(t, "other")
	url := tlsBroker(t, ca)
	for _, tc := range []struct {
		name string
		ca   string
		ok   bool
	}{{"trusted", ca.CA, true}, {"untrusted", other.CA, false}} {
		t.Run(tc.name, func(t *testing.T) {
			ctls, err := tlsconf.Config{CA: tc.ca}.Client()
			if err != nil {
				t.Fatal(err)
			}
			c := mqtt.New(mqtt.Options{URL: url, TLS: ctls, ClientID: "s1-bridge-" + tc.name, Store: "s1", DeviceID: "bridge",
				ConnectTimeout: 2 * time.Second, PublishTimeout: 5 * time.Second})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = c.Connect(ctx)
			defer c.Close()
			if !tc.ok {
				// paho keeps retrying in the background: Connect gives up
				// waiting after ConnectTimeout and the link stays down.
				time.Sleep(time.Second)
				if c.Connected() {
					t.Fatal("connected to a broker whose CA it does not trust")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Publish(wire.DeviceBridge, bridge.StatusEvent("s1", "bridge", true, "", time.Now())); err != nil {
				t.Errorf("publish over TLS: %v", err)
			}
			if pub, _ := c.Counts(); pub == 0 {
				t.Error("nothing published over TLS")
			}
		})
	}
}
