//go:build bench

package bench_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	agentapp "github.com/passline/passline/agent/app"
	"github.com/passline/passline/agent/bolt"
	agentmqtt "github.com/passline/passline/agent/mqtt"
	"github.com/passline/passline/cloud/natsd"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/internal/freeport"
	"github.com/passline/passline/wire"
)

// BenchmarkOutboxDrain writes PASSLINE_BENCH_OUTBOX decisions (default
// 100,000) into an agent's outbox through agent/bolt — what an agent
// accumulates while NATS is away — starts the agent (in process) with its
// NATS server down, then starts the server on the agent's configured port
// and times until the outbox is empty and the stream holds every decision.
// Target: ≤ 10 s. It runs twice: "folded", the agent as it runs (outbox
// removals folded into the writer's transactions), which is the target, and
// "separate" (app.Main.SeparateRemovals, removals committed per publish
// window as before), for comparison.
func BenchmarkOutboxDrain(b *testing.B) {
	for _, v := range []struct {
		name     string
		separate bool
	}{{"folded", false}, {"separate", true}} {
		b.Run(v.name, func(b *testing.B) { outboxDrain(b, v.name, v.separate) })
	}
}

func outboxDrain(b *testing.B, name string, separate bool) {
	n := envInt("PASSLINE_BENCH_OUTBOX", 100_000)
	store, dir := "drain1", b.TempDir()
	fillOutbox(b, filepath.Join(dir, "state.db"), store, n)

	broker := &agentmqtt.Broker{Listen: "127.0.0.1:0", Log: quiet}
	if err := broker.Run(); err != nil {
		b.Fatal(err)
	}
	defer broker.Close()
	natsAddr := freeport.Addr(b)
	m := agentapp.NewMain()
	m.Config = agentConfig(store, dir, broker.URL(), "nats://"+natsAddr)
	m.Config.Outbox.MaxEntries = max(m.Config.Outbox.MaxEntries, n)
	m.Config.Outbox.MaxBytes = max(m.Config.Outbox.MaxBytes, int64(n)*1024)
	m.Config.NATS.PublishWindow = envInt("PASSLINE_BENCH_PUBLISH_WINDOW", m.Config.NATS.PublishWindow)
	m.Log = quiet
	m.SeparateRemovals = separate
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Run(ctx); err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	st, err := m.Status()
	if err != nil || st.Outbox.Depth != int64(n) {
		b.Fatalf("outbox before the outage ends: depth %d, want %d (%v)", st.Outbox.Depth, n, err)
	}
	time.Sleep(time.Second) // the agent is running and failing to connect

	ns, err := natsd.Start(natsd.Options{Listen: natsAddr, StoreDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer ns.Shutdown()
	start := time.Now()
	var first time.Duration
	if !waitFor(120*time.Second, func() bool {
		st, err = m.Status()
		if first == 0 && err == nil && st.Links.NATS.Published > 0 {
			first = time.Since(start)
		}
		return err == nil && st.Outbox.Depth == 0
	}) {
		b.Fatalf("outbox not empty after 120s: depth %d (%v)", st.Outbox.Depth, err)
	}
	took := time.Since(start)
	stored := streamMsgs(b, ns.ClientURL())
	res := drainResult{removals: name, n: n, window: m.Config.NATS.PublishWindow, first: first, took: took, stored: stored, published: st.Links.NATS.Published, dups: st.Links.NATS.Duplicates}
	fmt.Printf("\n%s\n", res.String())
	report.drains = append(report.drains, res)
	if stored != uint64(n) {
		b.Errorf("stream holds %d decisions, want %d", stored, n)
	}
	if !separate && took > 10*time.Second {
		b.Errorf("drain took %s, target ≤ 10s", took)
	}
}

type drainResult struct {
	removals  string // folded or separate
	n, window int
	first     time.Duration
	took      time.Duration
	stored    uint64
	published int64
	dups      int64
}

func (r drainResult) String() string {
	return fmt.Sprintf("removals %s: %d decisions in the outbox, nats.publish_window %d; NATS up at t=0; first decision published by t=%s (reconnect); outbox empty after %s (%.0f decisions/s; target ≤ 10 s: %v); stream DECISIONS holds %d; uplink published %d, duplicates %d",
		r.removals, r.n, r.window, r.first.Round(time.Millisecond), r.took.Round(time.Millisecond), float64(r.n)/r.took.Seconds(), r.took <= 10*time.Second, r.stored, r.published, r.dups)
}

// fillOutbox appends n ready decisions to the outbox of the state db at
// path, 1,000 per transaction.
func fillOutbox(tb testing.TB, path, store string, n int) {
	tb.Helper()
	lim := bolt.DefaultLimits()
	lim.OutboxEntries = max(lim.OutboxEntries, n)
	lim.OutboxBytes = max(lim.OutboxBytes, int64(n)*1024)
	db, err := bolt.Open(path, bolt.Options{Limits: lim})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	for i := 0; i < n; i += 1000 {
		err := db.Update(func(tx *bolt.Tx) error {
			for j := i; j < min(n, i+1000); j++ {
				d := relaytest.Decision(fmt.Sprintf("drain-%d", j), store, fmt.Sprintf("o-%d", j), wire.KindReady)
				if ok, err := tx.AppendOutbox(d, now); err != nil || !ok {
					return fmt.Errorf("append %d: stored %v: %w", j, ok, err)
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
}

func streamMsgs(tb testing.TB, url string) uint64 {
	nc, err := nats.Connect(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	s, err := js.Stream(context.Background(), wire.StreamDecisions)
	if err != nil {
		tb.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return info.State.Msgs
}
