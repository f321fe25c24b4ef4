package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/passline/passline/wire"
	"github.com/passline/passline/wire/tlsconf/tlstest"
)

// TestAllLinksOverTLS runs the three configs/tls files with certificates
// made in the test: bridge → agent's TLS-only MQTT broker → agent uplink →
// cloud's TLS-only embedded NATS → rider. A rider subscriber trusting the
// CA gets notifications; one trusting another CA is refused.
func TestAllLinksOverTLS(t *testing.T) {
	ca, other := tlstest.Setenv(t, "passline"), tlstest.New(t, "other")
	t.Setenv("PASSLINE_JWT_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	cc := shippedCloud(t, "tls")
	cc.LogLevel = "warn"
	cloud := startCloud(t, cc)
	if !strings.HasPrefix(cloud.NATSURL(), "tls://") {
		t.Fatalf("cloud NATS %q, want tls://", cloud.NATSURL())
	}

	ac := shippedAgent(t, "tls", cloud.NATSURL())
	ac.LogLevel = "warn"
	agent := startAgent(t, ac)
	if !strings.HasPrefix(agent.MQTTURL(), "tls://") {
		t.Fatalf("agent MQTT %q, want tls://", agent.MQTTURL())
	}

	if nc, err := nats.Connect(cloud.NATSURL(), nats.RootCAs(other.CA)); err == nil {
		nc.Close()
		t.Fatal("a client trusting another CA connected to the cloud's NATS")
	}
	notes := subscribe(t, cloud.NATSURL(), wire.RiderWildcard, nats.RootCAs(ca.CA))

	bc := shippedBridge(t, "tls", agent.MQTTURL())
	bc.LogLevel = "warn"
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
