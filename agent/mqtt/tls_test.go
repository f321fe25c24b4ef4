package mqtt_test

import (
	"context"
	"crypto/tls"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/passline/passline/agent"
	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/agent/mqtt"
	"github.com/passline/passline/wire/tlsconf"
	"github.com/passline/passline/wire/tlsconf/tlstest"
)

func tlsClient(t *testing.T, c tlsconf.Config) *tls.Config {
	t.Helper()
	tc, err := c.Client()
	if err != nil {
		t.Fatal(err)
	}
	return tc
}

func connect(url string, tc *tls.Config) error { return connectAs(url, "probe", "", "", tc) }

// TestSourceOverTLS: the embedded broker with a TLS listener; the source
// trusting its CA connects and receives a ticket published over TLS; a
// client trusting another CA, or speaking plain TCP, is refused.
func TestSourceOverTLS(t *testing.T) {
	ca, other := tlstest.New(t, "broker"), tlstest.New(t, "other")
	stls, err := tlsconf.Config{Cert: ca.Cert, Key: ca.Key}.Server()
	if err != nil {
		t.Fatal(err)
	}
	b := &mqtt.Broker{Listen: "127.0.0.1:0", TLS: stls, Log: at.Quiet()}
	if err := b.Run(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if !strings.HasPrefix(b.URL(), "tls://") {
		t.Fatalf("broker URL %q, want tls://", b.URL())
	}
	got := make(chan agent.Input, 8)
	s := &mqtt.Source{URL: b.URL(), ClientID: "s1-agent", Store: "s1", TLS: tlsClient(t, tlsconf.Config{CA: ca.CA}), Log: at.Quiet(),
		Offer: func(in agent.Input, _ time.Duration) bool { got <- in; return true }, Room: func() bool { return true }}
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	at.Eventually(t, 10*time.Second, "source connected over TLS", s.Connected)

	pub := paho.NewClient(paho.NewClientOptions().AddBroker(b.URL()).SetClientID("pub").SetTLSConfig(tlsClient(t, tlsconf.Config{CA: ca.CA})))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publisher over TLS: %v", tok.Error())
	}
	t.Cleanup(func() { pub.Disconnect(10) })
	ev := at.Ticket("s1", "o-1", "grill", time.Now())
	at.Publish(t, pub, ev)
	select {
	case in := <-got:
		if in.Topic != at.Topic(ev) {
			t.Errorf("received on %q, want %q", in.Topic, at.Topic(ev))
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no message through the TLS listener")
	}

	if err := connect(b.URL(), tlsClient(t, tlsconf.Config{CA: other.CA})); err == nil {
		t.Error("client trusting another CA connected")
	}
	if err := connect(strings.Replace(b.URL(), "tls://", "tcp://", 1), nil); err == nil {
		t.Error("plain TCP client connected to the TLS listener")
	}
}
