package app_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/wire"
)

// TestRelayOnRealNATS runs the relay against the machine's nats-server
// (PASSLINE_TEST_NATS) with its own durable consumer and a store id of its
// own, and removes the consumer afterwards.
func TestRelayOnRealNATS(t *testing.T) {
	url := os.Getenv("PASSLINE_TEST_NATS")
	if url == "" {
		t.Skip("PASSLINE_TEST_NATS not set: skipping the relay against the real nats-server")
	}
	relaytest.SkipIfServerTooOld(t, url)
	suffix := fmt.Sprintf("%d", time.Now().UnixNano())
	cfg := relaytest.Config(t.TempDir())
	cfg.NATS.Embedded.Enabled = false
	cfg.NATS.URL = url
	cfg.Stream.DuplicateWindow = 2 * time.Hour // keep the shared stream's settings at the production defaults
	cfg.Stream.MaxAge = 72 * time.Hour
	cfg.Consumer.Durable = "relay-test-" + suffix
	cfg.Relay.Connections = 1
	m := relaytest.MustRun(t, cfg)
	nc, js := relaytest.Connect(t, url)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = js.DeleteConsumer(ctx, wire.StreamDecisions, cfg.Consumer.Durable)
	})
	riders := relaytest.Subscribe(t, nc)
	store, order := "st-"+suffix, "o-"+suffix
	if err := relaytest.Publish(context.Background(), js, relaytest.Decision("real-"+suffix, store, order, wire.KindReady)); err != nil {
		t.Fatal(err)
	}
	if err := relaytest.Assign(nc, store, order, "rider-"+suffix); err != nil {
		t.Fatal(err)
	}
	if !relaytest.WaitFor(30*time.Second, func() bool { return len(riders.Get("real-"+suffix)) == 1 }) {
		t.Fatal("no notification on the real nats-server within 30s")
	}
	if n := riders.Get("real-" + suffix)[0]; n.Rider != "rider-"+suffix || n.OrderID != order {
		t.Fatalf("notification %+v", n)
	}
	_ = m
}
