package app_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/cloud/app"
	"github.com/passline/passline/cloud/natsd"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/wire"
)

// A relay configured for another partition count than the streams were
// made with refuses to start, saying how to fix it, instead of leaving
// partitions unread.
func TestPartitionMismatchRefused(t *testing.T) {
	first := relaytest.MustRun(t, relaytest.Config(t.TempDir()))
	for _, parts := range []int{4, 2} {
		cfg := relaytest.Config(t.TempDir())
		cfg.NATS.Embedded.Enabled = false
		cfg.NATS.URL = first.NATSURL()
		cfg.Stream.Partitions = parts
		m := app.NewMain()
		m.Config = cfg
		err := m.Run(context.Background())
		if err == nil {
			_ = m.Close()
			t.Fatalf("a relay with %d partitions started against streams made for 1", parts)
		}
		if !errors.Is(err, natsjs.ErrPartitions) || !strings.Contains(err.Error(), "stream.partitions") {
			t.Fatalf("partitions %d: %v", parts, err)
		}
	}
}

// A relay with partitions against a server that lacks the subject mapping
// still delivers what lands on DECISIONS, and counts it as unmapped; the
// embedded server, which sets the mapping, spreads decisions over the
// partition streams instead.
func TestUnmappedDecisionsStillDelivered(t *testing.T) {
	bare, err := natsd.Start(natsd.Options{Listen: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bare.Shutdown)
	cfg := relaytest.Config(t.TempDir())
	cfg.NATS.Embedded.Enabled = false
	cfg.NATS.URL = bare.ClientURL()
	cfg.Stream.Partitions = 4
	m := relaytest.MustRun(t, cfg)
	nc, js := relaytest.Connect(t, bare.ClientURL())
	riders := relaytest.Subscribe(t, nc)
	const n = 8
	for i := range n {
		store := fmt.Sprintf("s%d", i)
		if err := relaytest.Assign(nc, store, "o1", "r1"); err != nil {
			t.Fatal(err)
		}
		if err := relaytest.Publish(context.Background(), js, relaytest.Decision(fmt.Sprintf("u-%d", i), store, "o1", wire.KindReady)); err != nil {
			t.Fatal(err)
		}
	}
	if !relaytest.WaitFor(15*time.Second, func() bool { d, _, _, _ := riders.Counts(); return d == n }) {
		t.Fatal("decisions on the unmapped server not delivered")
	}
	if got := relaytest.Metric(t, m.Registry, "passline_relay_unmapped_decisions_total", nil); got != n {
		t.Fatalf("unmapped counted %v, want %d", got, n)
	}

	mapped := relaytest.Config(t.TempDir())
	mapped.Stream.Partitions = 4
	mm := relaytest.MustRun(t, mapped)
	nc2, js2 := relaytest.Connect(t, mm.NATSURL())
	riders2 := relaytest.Subscribe(t, nc2)
	for i := range n {
		store := fmt.Sprintf("s%d", i)
		if err := relaytest.Assign(nc2, store, "o1", "r1"); err != nil {
			t.Fatal(err)
		}
		if err := relaytest.Publish(context.Background(), js2, relaytest.Decision(fmt.Sprintf("m-%d", i), store, "o1", wire.KindReady)); err != nil {
			t.Fatal(err)
		}
	}
	if !relaytest.WaitFor(15*time.Second, func() bool { d, _, _, _ := riders2.Counts(); return d == n }) {
		t.Fatal("decisions on the mapped server not delivered")
	}
	checkPartitionsUsed(t, js2, 4, n)
	if got := relaytest.Metric(t, mm.Registry, "passline_relay_unmapped_decisions_total", nil); got != 0 {
		t.Fatalf("mapped server: unmapped counted %v", got)
	}
}
