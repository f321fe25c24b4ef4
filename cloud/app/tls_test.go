package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/wire"
	"github.com/passline/passline/wire/tlsconf"
	"github.com/passline/passline/wire/tlsconf/tlstest"
)

// TestEmbeddedNATSOverTLS: with nats.embedded.tls the relay's embedded
// server accepts only TLS, the relay connects through nats.tls, a client
// trusting the CA uses JetStream, and one trusting another CA, or not
// speaking TLS, is refused.
func TestEmbeddedNATSOverTLS(t *testing.T) {
	ca, other := tlstest.New(t, "nats"), tlstest.New(t, "other")
	cfg := relaytest.Config(t.TempDir())
	cfg.NATS.Embedded.TLS = tlsconf.Config{Cert: ca.Cert, Key: ca.Key}
	cfg.NATS.TLS = tlsconf.Config{CA: ca.CA}
	m := relaytest.MustRun(t, cfg)
	url := m.NATSURL()
	if !strings.HasPrefix(url, "tls://") {
		t.Fatalf("NATSURL %q, want tls://", url)
	}
	if err := m.Health(); err != nil {
		t.Fatalf("relay over TLS: %v", err)
	}

	nc, err := nats.Connect(url, nats.RootCAs(ca.CA))
	if err != nil {
		t.Fatalf("client trusting the CA: %v", err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.Stream(ctx, wire.StreamDecisions); err != nil {
		t.Errorf("jetstream over TLS: %v", err)
	}

	if nc, err := nats.Connect(url, nats.RootCAs(other.CA)); err == nil {
		nc.Close()
		t.Error("client trusting another CA connected")
	} else if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("client trusting another CA: %v, want a certificate error", err)
	}
	plain := strings.Replace(url, "tls://", "nats://", 1)
	if nc, err := nats.Connect(plain); err == nil {
		nc.Close()
		t.Error("plain client connected to a TLS-only server")
	}
}

func TestTLSConfigFieldsValidated(t *testing.T) {
	ca := tlstest.New(t, "v")
	for _, tc := range []struct {
		name string
		set  func(c *tlsconf.Config, e *tlsconf.Config)
		want string
	}{
		{"client cert without key", func(c, _ *tlsconf.Config) { c.Cert = ca.Cert }, "nats.tls.key: required"},
		{"client ca missing", func(c, _ *tlsconf.Config) { c.CA = ca.CA + ".none" }, "nats.tls.ca: stat"},
		{"server without cert", func(_, e *tlsconf.Config) { e.CA = ca.CA }, "nats.embedded.tls.cert: required"},
		{"server key missing", func(_, e *tlsconf.Config) { e.Cert, e.Key = ca.Cert, ca.Key+".none" }, "nats.embedded.tls.key: stat"},
	} {
		cfg := relaytest.Config(t.TempDir())
		tc.set(&cfg.NATS.TLS, &cfg.NATS.Embedded.TLS)
		if err := cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
