package e2e_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	agentconfig "github.com/passline/passline/agent/config"
	cloudconfig "github.com/passline/passline/cloud/config"
	bridgeconfig "github.com/passline/passline/firmware-bridge/config"
	"github.com/passline/passline/wire"
	"github.com/passline/passline/wire/tlsconf/tlstest"
)

// TestAllLinksOverTLS runs the three configs/tls files with certificates
// made in the test: bridge → agent's TLS-only MQTT broker → agent uplink →
// cloud's TLS-only embedded NATS → rider. A rider subscriber trusting the
// CA gets notifications; one trusting another CA is refused.
func TestAllLinksOverTLS(t *testing.T) {
	ca, other := tlstest.New(t, "passline"), tlstest.New(t, "other")
	t.Setenv("PASSLINE_TLS_CA", ca.CA)
	t.Setenv("PASSLINE_TLS_CERT", ca.Cert)
	t.Setenv("PASSLINE_TLS_KEY", ca.Key)
	t.Setenv("PASSLINE_JWT_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	cc, err := cloudconfig.Load(filepath.Join("..", "configs", "tls", "cloud.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cc.DataDir, cc.NATS.Embedded.StoreDir = t.TempDir(), ""
	cc.NATS.Embedded.Listen, cc.HTTP.Listen, cc.LogLevel = "127.0.0.1:0", "127.0.0.1:0", "warn"
	cloud := startCloud(t, cc)
	if !strings.HasPrefix(cloud.NATSURL(), "tls://") {
		t.Fatalf("cloud NATS %q, want tls://", cloud.NATSURL())
	}

	ac, err := agentconfig.Load(filepath.Join("..", "configs", "tls", "agent.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ac.DataDir, ac.MQTT.Embedded.Listen, ac.HTTP.Listen = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	ac.NATS.URL, ac.LogLevel = cloud.NATSURL(), "warn"
	agent := startAgent(t, ac)
	if !strings.HasPrefix(agent.MQTTURL(), "tls://") {
		t.Fatalf("agent MQTT %q, want tls://", agent.MQTTURL())
	}

	if nc, err := nats.Connect(cloud.NATSURL(), nats.RootCAs(other.CA)); err == nil {
		nc.Close()
		t.Fatal("a client trusting another CA connected to the cloud's NATS")
	}
	nc, err := nats.Connect(cloud.NATSURL(), nats.RootCAs(ca.CA))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	notes := make(chan *nats.Msg, 1024)
	if _, err := nc.ChanSubscribe(wire.RiderWildcard, notes); err != nil {
		t.Fatal(err)
	}

	bc, err := bridgeconfig.Load(filepath.Join("..", "configs", "tls", "bridge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bc.MQTT.URL, bc.LogLevel = agent.MQTTURL(), "warn"
	startBridge(t, bc, nil)

	select {
	case m := <-notes:
		n, err := wire.DecodeNotification(m.Data)
		if err != nil || n.Store != ac.Store {
			t.Fatalf("notification %+v, %v; want one for %s", n, err, ac.Store)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no rider notification through the TLS links in 30s")
	}
}
