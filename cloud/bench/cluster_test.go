//go:build bench

package bench_test

import (
	"context"
	"fmt"
	"os"
	"runtime/trace"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/app"
	"github.com/passline/passline/cloud/natsd/natsdtest"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/wire"
)

// partitionStreams are the decision streams that receive decisions with
// parts partitions: DECISIONS alone for one, DECISIONS_0.. for more.
func partitionStreams(parts int) []string {
	if parts <= 1 {
		return []string{wire.StreamDecisions}
	}
	var out []string
	for p := range parts {
		out = append(out, wire.DecisionStream(p, parts))
	}
	return out
}

// startCluster starts the benchmark's 3-node cluster for parts
// partitions; with PASSLINE_BENCH_SPREAD=1 every node gets the same
// storage limit, so the one-replica streams are spread over the nodes
// (natsdtest.StartClusterSpread) instead of all landing on one.
func startCluster(t testing.TB, parts int) *natsdtest.Cluster {
	if os.Getenv("PASSLINE_BENCH_SPREAD") != "" {
		return natsdtest.StartClusterSpread(t, 3, app.Mappings(parts))
	}
	return natsdtest.StartCluster(t, 3, app.Mappings(parts))
}

// fairClusterRate is fairRate on a 3-node cluster with parts partitions:
// loops loops (the relays of clusterRate), each on its own connection to
// a random node, consume every partition's stream through a shared
// durable pull consumer, write each decision's notification to its
// rider's outbox partition (async, window 1024 per loop) and its order
// view put, and ack the decision when the outbox write is acked. It is
// the cluster's own cost of the relay's stored writes per partition
// count, without the relay.
func fairClusterRate(t testing.TB, n, parts, loops int) figure {
	cl := startCluster(t, parts)
	nc, js := relaytest.Connect(t, cl.NodeURL(0))
	cfg := benchConfig(t, cl.URL())
	cfg.Stream.Partitions = parts
	setup(t, js, cfg)
	preload(t, js, n, "fairc")
	placement(t, js, parts)
	c := riderClock(t, nc, n)
	defer profile(t)()
	var seq atomic.Int64
	for range loops {
		fairLoop(t, cl.URL(), parts, &seq)
	}
	return c.figure(t, fmt.Sprintf("fair baseline on a cluster (P=%d)", parts), 300*time.Second)
}

// fairLoop starts one fair consume+write loop over every partition.
func fairLoop(t testing.TB, url string, parts int, seq *atomic.Int64) {
	const window = 1024
	conn, js := relaytest.Connect(t, url)
	var inFlight sync.Map                // outbox *nats.Msg → decision message
	slots := make(chan struct{}, window) // the relay's window: decisions in flight
	pjs, err := jetstream.New(conn, jetstream.WithPublishAsyncMaxPending(window),
		jetstream.WithPublishAsyncAckHandler(func(_ jetstream.JetStream, msg *nats.Msg, _ *jetstream.PubAck) {
			if m, ok := inFlight.LoadAndDelete(msg); ok {
				_ = m.(jetstream.Msg).Ack()
				<-slots
			}
		}),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, msg *nats.Msg, err error) {
			if _, ok := inFlight.LoadAndDelete(msg); ok {
				t.Errorf("fair cluster outbox write: %v", err)
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	for _, stream := range partitionStreams(parts) {
		cons, err := js.CreateOrUpdateConsumer(context.Background(), stream, jetstream.ConsumerConfig{
			Durable: "fair", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 4096,
		})
		if err != nil {
			t.Fatal(err)
		}
		cc, err := cons.Consume(func(m jetstream.Msg) {
			slots <- struct{}{}
			k := seq.Add(1)
			rider := fmt.Sprintf("r%d", k%20)
			out := nats.NewMsg(natsjs.OutboxSubject(natsjs.OutboxPartition(rider, parts), rider, m.Headers().Get(wire.HeaderMsgID)))
			out.Data = m.Data()
			inFlight.Store(out, m)
			if _, err := pjs.PublishMsgAsync(out); err != nil {
				t.Errorf("fair cluster outbox write: %v", err)
			}
			o := k % orders
			if err := conn.Publish(fmt.Sprintf("$KV.%s.%s.o%d", natsjs.BucketOrders, storeOf(int(o)), o), m.Data()); err != nil {
				t.Errorf("fair cluster order view write: %v", err)
			}
		}, jetstream.PullMaxMessages(window))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cc.Stop)
	}
}

// placement prints, when PASSLINE_BENCH_PLACEMENT is set, which node
// leads each decision stream and rider outbox, and how many decisions
// each decision stream holds.
func placement(t testing.TB, js jetstream.JetStream, parts int) {
	if os.Getenv("PASSLINE_BENCH_PLACEMENT") == "" {
		return
	}
	ctx := context.Background()
	names := partitionStreams(parts)
	for p := range max(parts, 1) {
		names = append(names, natsjs.OutboxStream(p))
	}
	names = append(names, "KV_"+natsjs.BucketOrders, "KV_"+natsjs.BucketAssign)
	var out []string
	for _, name := range names {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info := s.CachedInfo()
		leader := "?"
		if info.Cluster != nil {
			leader = info.Cluster.Leader
		}
		out = append(out, fmt.Sprintf("%s@%s(%d)", name, leader, info.State.Msgs))
	}
	slices.Sort(out)
	fmt.Printf("    placement P=%d: %s\n", parts, strings.Join(out, " "))
}

// traceRun starts an execution trace into PASSLINE_BENCH_TRACE (with the
// run number appended) when it is set, and returns what stops it: per
// goroutine CPU shows whether one serial loop (a stream's) bounds a run.
func traceRun(t testing.TB) func() {
	path := os.Getenv("PASSLINE_BENCH_TRACE")
	if path == "" {
		return func() {}
	}
	traces++
	f, err := os.Create(fmt.Sprintf("%s.%d", path, traces))
	if err != nil {
		t.Fatal(err)
	}
	if err := trace.Start(f); err != nil {
		t.Fatal(err)
	}
	return func() {
		trace.Stop()
		f.Close()
	}
}

var traces int

// BenchmarkClusterPartitions compares P = 1 with P = 4 on the 3-node
// cluster, interleaved on fresh clusters (fair P=1, fair P=4, relay P=1,
// relay P=4, in the reverse order every other rep): the fair baseline on the cluster (fairClusterRate,
// PASSLINE_BENCH_CLUSTER_RELAYS loops) shows what the cluster itself gives
// when the partitions grow, the relay rows what the relay makes of it. It
// runs only with PASSLINE_BENCH_AB=1 (make bench-cloud skips it);
// PASSLINE_BENCH_N, PASSLINE_BENCH_REPS, PASSLINE_BENCH_PROFILE and
// PASSLINE_BENCH_PLACEMENT (print each stream's node) apply;
// PASSLINE_BENCH_RELAY_ONLY=1 leaves out the fair rows, PASSLINE_BENCH_FAIR_ONLY=1
// the relay rows.
func BenchmarkClusterPartitions(b *testing.B) {
	if os.Getenv("PASSLINE_BENCH_AB") == "" {
		b.Skip("set PASSLINE_BENCH_AB=1")
	}
	n := envInt("PASSLINE_BENCH_N", 30000)
	reps := envInt("PASSLINE_BENCH_REPS", 2)
	cr := envInt("PASSLINE_BENCH_CLUSTER_RELAYS", 2)
	fmt.Printf("\nP = 1 vs P = 4 on a 3-node cluster, R1, %d relays (fair: %d loops), %d decisions, load before: %s\n", cr, cr, n, loadavg())
	row := func(name string, f figure) {
		fmt.Printf("  %-14s %7.0f msg/s %6.1f µs CPU/msg %6.1f allocs/msg  (%.2f cores; load %s)\n", name, f.rate, f.cpu*1e6, f.allocs, f.rate*f.cpu, loadavg())
	}
	fair := func(p int) {
		row(fmt.Sprintf("fair P = %d", p), scoped(b, func(t testing.TB) figure { return fairClusterRate(t, n, p, cr) }))
	}
	relay := func(p int) {
		row(fmt.Sprintf("relay P = %d", p), scoped(b, func(t testing.TB) figure { return clusterRate(t, n, p, cr) }))
	}
	for k := range reps {
		order := []int{1, 4}
		if k%2 == 1 {
			order = []int{4, 1} // whichever runs second must not always be the one a busy machine slows
		}
		fmt.Printf(" rep %d\n", k)
		for _, p := range order {
			if os.Getenv("PASSLINE_BENCH_RELAY_ONLY") == "" {
				fair(p)
			}
		}
		for _, p := range order {
			if os.Getenv("PASSLINE_BENCH_FAIR_ONLY") == "" {
				relay(p)
			}
		}
	}
}
