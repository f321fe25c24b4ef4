//go:build bench

package bench_test

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/bench/rawjs"
	"github.com/passline/passline/cloud/config"
	"github.com/passline/passline/cloud/natsd"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/internal/benchmd"
	"github.com/passline/passline/wire"
)

const (
	orders = 200 // spread over stores: order o belongs to store s{o%stores}
	stores = 16  // so that P = 4 partitions all get decisions
)

func storeOf(o int) string { return fmt.Sprintf("s%d", o%stores) }

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// server starts a fresh embedded JetStream server.
func server(t testing.TB) *natsd.Server {
	s, err := natsd.Start(natsd.Options{Listen: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	return s
}

// preload publishes n decisions of every store (rawjs.Fill: async,
// bounded) to their decision subjects; the streams must exist.
func preload(t testing.TB, js jetstream.JetStream, n int, prefix string) {
	rawjs.Fill(t, js, n, func(i int) *nats.Msg {
		o := i % orders
		return decisionMsg(relaytest.Decision(fmt.Sprintf("%s-%d", prefix, i), storeOf(o), fmt.Sprintf("o%d", o), wire.KindReady))
	})
}

// decisionMsg is d as the agent's uplink publishes it.
func decisionMsg(d wire.Decision) *nats.Msg {
	b, _ := d.Marshal()
	msg := nats.NewMsg(wire.DecisionSubject(d.Store))
	msg.Data = b
	msg.Header.Set(wire.HeaderMsgID, d.ID)
	return msg
}

// figure is one run's rate and the process's CPU time per message over
// the same interval (servers, relays and loops all run in this process).
// The CPU per message holds on a shared machine where the rate does not:
// idle(cores) is the rate the same work would reach on that many idle cores.
type figure struct {
	rate   float64 // msg/s
	cpu    float64 // CPU seconds per message
	allocs float64 // heap objects allocated per message
	// steady is, with the ready re-send on, the CPU seconds per message
	// from the first delivery until the re-send consumers have checked and
	// acked every outbox message of the run (drained after the last
	// delivery): the delivery's cost plus the deferred check's, what a
	// steady flow pays per decision. 0 without the re-send.
	steady  float64
	drained time.Duration
	idleCPU float64 // cores the process used idle for a second after the checks
}

func (f figure) idle(cores int) float64 { return float64(cores) / f.cpu }

// steadyNote is the row's note for a run with the re-send check counted.
func (f figure) steadyNote(cores int) string {
	if f.steady == 0 {
		return ""
	}
	return fmt.Sprintf("incl. the deferred work (KPI recorder; re-send checks when on) until done: %.1f µs CPU/decision, %.0f msg/s on %d idle cores (drained %s after the last delivery; the process idle after: %.2f cores)",
		f.steady*1e6, float64(cores)/f.steady, cores, f.drained.Round(10*time.Millisecond), f.idleCPU)
}

// clock times a run from its first settled message to its last, so the
// figure leaves out start-up: (n-1) / (last - first), and the CPU spent
// in between.
type clock struct {
	n        int64
	got      atomic.Int64
	done     chan struct{}
	start    time.Time
	last     time.Time
	ru0, ru1 syscall.Rusage
	al0, al1 uint64
}

func newClock(n int) *clock { return &clock{n: int64(n), done: make(chan struct{})} }

func (c *clock) tick() {
	k := c.got.Add(1)
	if k == 1 {
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &c.ru0)
		c.al0 = heapObjects()
		c.start = time.Now()
	}
	if k == c.n {
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &c.ru1)
		c.al1 = heapObjects()
		c.last = time.Now()
		close(c.done)
	}
}

func (c *clock) figure(t testing.TB, what string, timeout time.Duration) figure {
	select {
	case <-c.done:
	case <-time.After(timeout):
		t.Fatalf("%s: %d of %d in %s", what, c.got.Load(), c.n, timeout)
	}
	return figure{rate: float64(c.n-1) / c.last.Sub(c.start).Seconds(), cpu: cpuSeconds(c.ru0, c.ru1) / float64(c.n-1),
		allocs: float64(c.al1-c.al0) / float64(c.n-1)}
}

// heapObjects is how many heap objects the process has allocated so far;
// per message it follows the CPU per message and does not depend on load.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func cpuSeconds(a, b syscall.Rusage) float64 {
	return time.Duration(b.Utime.Nano() - a.Utime.Nano() + b.Stime.Nano() - a.Stime.Nano()).Seconds()
}

// rawRate consumes and acks n preloaded decisions with a durable pull
// consumer (rawjs.ConsumeRate): no stored write per message.
func rawRate(t testing.TB, n int) figure {
	s := server(t)
	_, js := relaytest.Connect(t, s.ClientURL())
	setup(t, js, benchConfig(t, s.ClientURL()))
	preload(t, js, n, "raw")
	var ru0, ru1 syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	rate := rawjs.ConsumeRate(t, js, wire.StreamDecisions, n)
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	return figure{rate: rate, cpu: cpuSeconds(ru0, ru1) / float64(n)}
}

// consume consumes DECISIONS with at most window messages unacked.
func consume(t testing.TB, js jetstream.JetStream, durable string, window int, fn func(jetstream.Msg)) jetstream.ConsumeContext {
	cons, err := js.CreateOrUpdateConsumer(context.Background(), wire.StreamDecisions, jetstream.ConsumerConfig{
		Durable: durable, AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: window,
	})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := cons.Consume(fn, jetstream.PullMaxMessages(min(window, 1024)))
	if err != nil {
		t.Fatal(err)
	}
	return cc
}

// fairRate is the relay's work without the relay: for each of n preloaded
// decisions it makes the relay's stored writes, the notification on its
// own subject in RIDER_OUTBOX (one message per subject, republished),
// asynchronous with a window of 1024 decisions in flight (the relay's
// default relay.window), and the order view put, published without asking
// for an ack (natsjs.Orders), and acks the decision when the outbox write
// is acked, as the relay does. Like the relay's, it is timed
// by the notifications the outbox republishes to the rider subjects.
func fairRate(t testing.TB, n int) figure {
	s := server(t)
	nc, js := relaytest.Connect(t, s.ClientURL())
	setup(t, js, benchConfig(t, s.ClientURL()))
	preload(t, js, n, "fair")
	pub, _ := relaytest.Connect(t, s.ClientURL())
	c := riderClock(t, nc, n)
	var inFlight sync.Map // outbox *nats.Msg → decision message
	const window = 1024
	pjs, err := jetstream.New(pub, jetstream.WithPublishAsyncMaxPending(window),
		jetstream.WithPublishAsyncAckHandler(func(_ jetstream.JetStream, msg *nats.Msg, _ *jetstream.PubAck) {
			if m, ok := inFlight.LoadAndDelete(msg); ok {
				_ = m.(jetstream.Msg).Ack()
			}
		}),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, msg *nats.Msg, err error) {
			if _, ok := inFlight.LoadAndDelete(msg); ok {
				t.Errorf("fair baseline outbox write: %v", err)
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	var seq atomic.Int64
	defer profile(t)()
	cc := consume(t, js, "fair", window, func(m jetstream.Msg) {
		k := seq.Add(1)
		out := nats.NewMsg(natsjs.OutboxSubject(0, fmt.Sprintf("r%d", k%20), m.Headers().Get(wire.HeaderMsgID)))
		out.Data = m.Data()
		inFlight.Store(out, m)
		if _, err := pjs.PublishMsgAsync(out); err != nil {
			t.Errorf("fair baseline outbox write: %v", err)
		}
		o := k % orders
		if err := pub.Publish(fmt.Sprintf("$KV.%s.%s.o%d", natsjs.BucketOrders, storeOf(int(o)), o), m.Data()); err != nil {
			t.Errorf("fair baseline order view write: %v", err)
		}
	})
	defer cc.Stop()
	return c.figure(t, "fair baseline", 120*time.Second)
}

// riderClock counts notifications on every rider subject.
func riderClock(t testing.TB, nc *nats.Conn, n int) *clock {
	c := newClock(n)
	sub, err := nc.Subscribe(wire.RiderWildcard, func(m *nats.Msg) {
		if !bytes.Contains(m.Data, resentJSON) { // first notifications only: a re-send is not a decision
			c.tick()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = sub.SetPendingLimits(-1, -1)
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return c
}

// resentJSON marks a re-sent notification (wire.Notification.Resent).
var resentJSON = []byte(`"resent":true`)

// relayRate preloads n decisions, then starts replicas relays and times
// them from the first notification on a rider subject to the last. It
// also counts the deferred work (figure.steady): the CPU until the KPI
// recorder has handled every decision and, with the rider outbox and
// resend > 0, the re-send check every outbox message. For the checks every rider's ack is stored before the run, as
// when riders ack their readies before the re-send is due, so each check
// is the outbox read, the decode, the rider-ack read and the ack, and
// nothing is re-sent (a re-send would be a delivery of its own); the CPU
// is counted until every outbox re-send consumer has nothing pending or
// unacked. The wait includes resend's idle time, so keep resend short
// (a few seconds): the check costs the same whenever it falls due.
func relayRate(t testing.TB, n, replicas int, outbox bool, resend time.Duration) figure {
	s := server(t)
	nc, js := relaytest.Connect(t, s.ClientURL())
	cfg := benchConfig(t, s.ClientURL())
	cfg.Relay.RiderOutbox = outbox
	cfg.Relay.ReadyResend = resend
	setup(t, js, cfg)
	assignAll(t, js)
	checks := outbox && resend > 0
	if checks {
		ackAll(t, js)
	}
	preload(t, js, n, "relay")
	c := riderClock(t, nc, n)
	defer profile(t)()
	for range replicas {
		relaytest.MustRun(t, cfg)
	}
	f := c.figure(t, fmt.Sprintf("relay (%d replicas)", replicas), 300*time.Second)
	// The KPI recorder's durables always, the re-send checks' when on.
	var durables [][2]string
	for _, st := range natsjs.DecisionStreams(cfg.Stream.Partitions) {
		durables = append(durables, [2]string{st, natsjs.DurableKPI})
	}
	if checks {
		for p := range max(cfg.Stream.Partitions, 1) {
			durables = append(durables, [2]string{natsjs.OutboxStream(p), natsjs.DurableResend})
		}
	}
	{
		drained(t, js, durables, resend+120*time.Second)
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		f.steady, f.drained = cpuSeconds(c.ru0, ru)/float64(c.n-1), time.Since(c.last)
		time.Sleep(time.Second) // what the wait's idle time weighs, for the reader
		var ru2 syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru2)
		f.idleCPU = cpuSeconds(ru, ru2) / time.Second.Seconds()
	}
	return f
}

// ackAll stores, for every order, its rider's ack of any version, so a
// re-send check finds the ready acknowledged.
func ackAll(t testing.TB, js jetstream.JetStream) {
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, natsjs.BucketRiderAcks)
	if err != nil {
		t.Fatal(err)
	}
	for o := range orders {
		if _, err := (natsjs.RiderAcks{KV: kv}).Ack(ctx, storeOf(o), fmt.Sprintf("o%d", o), fmt.Sprintf("r%d", o%20), 1<<62, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
}

// drained waits until each {stream, durable} consumer has handled and
// acked all it was given (nothing pending, nothing unacked).
func drained(t testing.TB, js jetstream.JetStream, durables [][2]string, timeout time.Duration) {
	ctx := context.Background()
	deadline := time.Now().Add(timeout)
	for p := 0; p < len(durables); {
		info, err := js.Consumer(ctx, durables[p][0], durables[p][1])
		var ci *jetstream.ConsumerInfo
		if err == nil {
			ci, err = info.Info(ctx)
		}
		if err == nil && ci.NumPending == 0 && ci.NumAckPending == 0 {
			p++
			continue
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s on %s not drained in %s: %+v %v", durables[p][1], durables[p][0], timeout, ci, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// clusterRate is relayRate on a 3-node cluster with the decisions spread
// over partitions, each partition's streams of clusterReplicas replicas,
// and replicas relays (each relay's connections go to random nodes).
func clusterRate(t testing.TB, n, partitions, replicas int) figure {
	cl := startCluster(t, partitions)
	nc, js := relaytest.Connect(t, cl.NodeURL(0))
	cfg := benchConfig(t, cl.URL())
	cfg.Stream.Partitions = partitions
	cfg.Stream.Replicas = envInt("PASSLINE_BENCH_CLUSTER_REPLICAS", 1)
	setup(t, js, cfg)
	assignAll(t, js)
	preload(t, js, n, "cluster")
	placement(t, js, partitions)
	c := riderClock(t, nc, n)
	defer profile(t)()
	defer traceRun(t)()
	for range replicas {
		relaytest.MustRun(t, cfg)
	}
	return c.figure(t, fmt.Sprintf("relay on a cluster (P=%d, %d replicas)", partitions, replicas), 300*time.Second)
}

// benchResend is the bench's relay.ready_resend for the row of the
// default re-send: short, so each run waits seconds, not minutes, for its
// last checks (relayRate); a check costs the same whenever it falls due.
const benchResend = 2 * time.Second

func benchConfig(t testing.TB, url string) config.Config {
	cfg := relaytest.Config(t.TempDir())
	cfg.NATS.Embedded.Enabled = false
	cfg.NATS.URL = url
	cfg.Consumer.AckWait = 30 * time.Second
	cfg.Relay.ChannelTimeout = config.DefaultConfig().Relay.ChannelTimeout // the tests' 500 ms times out acks queued behind a full window
	cfg.Stream.DuplicateWindow, cfg.Stream.MaxAge = 2*time.Hour, 72*time.Hour
	cfg.Relay.Workers = envInt("PASSLINE_BENCH_WORKERS", 256)
	cfg.Relay.ChannelWorkers = cfg.Relay.Workers
	cfg.Relay.Connections = envInt("PASSLINE_BENCH_CONNECTIONS", cfg.Relay.Connections)
	// Every decision here is a ready. Its one re-send check reads the
	// rider outbox ready_resend later (natsjs.Resends): off, so the rows
	// measure the delivery alone; BenchmarkCloudRelay prints a row with
	// the re-send on and its checks counted (figure.steady).
	cfg.Relay.ReadyResend = 0
	return cfg
}

// setup creates the streams and buckets as the relay would.
func setup(t testing.TB, js jetstream.JetStream, c config.Config) {
	_, err := natsjs.Setup(context.Background(), js, natsjs.Options{
		Replicas: 1, DuplicateWindow: c.Stream.DuplicateWindow, MaxAge: c.Stream.MaxAge,
		IdempotencyTTL: c.Relay.IdempotencyTTL, AssignmentTTL: c.Relay.AssignmentTTL, PendingTTL: c.Relay.PendingTTL,
		ETAInterval: c.Limits.ETAInterval, OrderViewTTL: c.Relay.OrderViewTTL, OutboxDuplicate: c.Relay.OutboxDuplicate,
		Partitions: c.Stream.Partitions,
	})
	if err != nil {
		t.Fatal(err)
	}
}

// assignAll stores an assignment for every order straight into the
// bucket, so no relay needs to be running.
func assignAll(t testing.TB, js jetstream.JetStream) {
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, natsjs.BucketAssign)
	if err != nil {
		t.Fatal(err)
	}
	for o := range orders {
		a := wire.Assignment{Store: storeOf(o), OrderID: fmt.Sprintf("o%d", o), Rider: fmt.Sprintf("r%d", o%20), At: time.Now()}
		if err := (natsjs.Assignments{KV: kv}).Put(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
}

// latency publishes at rate per second for dur through one relay and
// returns the p50 and p99 of decision → rider-subject latency, with the
// p99 of its two parts: decided → the relay made the notification (the
// agent's publish, the store, the consumer's fetch and the relay's own
// work) and made → received (the outbox write, its republish and the
// delivery to the rider's subscription).
func latency(t testing.TB, rate float64, dur time.Duration) (l lat) {
	s := server(t)
	_, js := relaytest.Connect(t, s.ClientURL())
	cfg := benchConfig(t, s.ClientURL())
	setup(t, js, cfg)
	assignAll(t, js)
	relaytest.MustRun(t, cfg)
	type sample struct{ total, relay, rider time.Duration }
	got := make(chan sample, 1<<20)
	riders, _ := relaytest.Connect(t, s.ClientURL()) // its own connection, so the publisher's acks do not queue behind it
	sub, err := riders.Subscribe(wire.RiderWildcard, func(msg *nats.Msg) {
		if n, err := wire.DecodeNotification(msg.Data); err == nil {
			now := time.Now()
			got <- sample{now.Sub(n.DecidedAt), n.SentAt.Sub(n.DecidedAt), now.Sub(n.SentAt)}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = sub.SetPendingLimits(-1, -1)
	defer sub.Unsubscribe()
	total := int(rate * dur.Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	pub := pacedPublisher(t, s.ClientURL())
	rt := readRuntime()
	start := time.Now()
	for i := range total {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		o := i % orders
		d := relaytest.Decision(fmt.Sprintf("lat-%d", i), storeOf(o), fmt.Sprintf("o%d", o), wire.KindReady)
		d.CreatedAt = time.Now()
		if _, err := pub.PublishMsgAsync(decisionMsg(d), jetstream.WithStallWait(10*time.Second)); err != nil {
			t.Fatalf("latency run publish %d: %v", i, err)
		}
	}
	var all, relay, rider []time.Duration
	deadline := time.After(60 * time.Second)
	for len(all) < total {
		select {
		case x := <-got:
			all, relay, rider = append(all, x.total), append(relay, x.relay), append(rider, x.rider)
		case <-deadline:
			t.Fatalf("latency run: %d of %d delivered", len(all), total)
		}
	}
	st := rt.stop()
	for _, v := range [][]time.Duration{all, relay, rider} {
		slices.Sort(v)
	}
	p99 := func(v []time.Duration) time.Duration { return v[len(v)*99/100] }
	return lat{p50: all[len(all)/2], p99: p99(all), relayP99: p99(relay), riderP99: p99(rider), max: all[len(all)-1], count: total, run: st}
}

// runtimeStats is what the process did during a latency run: the cores it
// used (servers, relay and load generator together), the 99th percentile
// of the Go scheduler's latency (how long a runnable goroutine waited for
// a CPU: the queueing the machine's load adds to every hop of a decision)
// and the share of its CPU spent in GC.
type runtimeStats struct {
	cores, gcShare float64
	schedP99       time.Duration
}

type runtimeClock struct {
	at time.Time
	ru syscall.Rusage
	m  []metrics.Sample
}

func readRuntime() runtimeClock {
	c := runtimeClock{at: time.Now(), m: []metrics.Sample{
		{Name: "/sched/latencies:seconds"}, {Name: "/cpu/classes/gc/total:cpu-seconds"}, {Name: "/cpu/classes/total:cpu-seconds"}}}
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &c.ru)
	metrics.Read(c.m)
	return c
}

func (a runtimeClock) stop() runtimeStats {
	b := readRuntime()
	st := runtimeStats{cores: cpuSeconds(a.ru, b.ru) / b.at.Sub(a.at).Seconds()}
	if total := b.m[2].Value.Float64() - a.m[2].Value.Float64(); total > 0 {
		st.gcShare = (b.m[1].Value.Float64() - a.m[1].Value.Float64()) / total
	}
	h0, h1 := a.m[0].Value.Float64Histogram(), b.m[0].Value.Float64Histogram()
	var n uint64
	for i := range h1.Counts {
		n += h1.Counts[i] - h0.Counts[i]
	}
	var acc uint64
	for i := range h1.Counts {
		if acc += h1.Counts[i] - h0.Counts[i]; n > 0 && acc*100 >= n*99 {
			st.schedP99 = time.Duration(h1.Buckets[i+1] * 1e9) // the bucket's upper bound
			break
		}
	}
	return st
}

// pacedWindow is how many of the latency run's publishes may await their
// acks: enough that the generator never waits at its rate, so decisions
// leave it on schedule.
const pacedWindow = 8192

// pacedPublisher is the latency run's load generator: async publishes on
// a connection of its own with a sliding window of pacedWindow awaiting
// their acks. rawjs.Publisher, which it used before, waits for every
// outstanding ack after each 256 publishes: the generator stopped for the
// slowest ack of each 256, then sent the decisions it owed in one burst,
// and the bursts queued in the relay as latency of its own.
func pacedPublisher(t testing.TB, url string) jetstream.JetStream {
	nc, _ := relaytest.Connect(t, url)
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(pacedWindow),
		jetstream.WithPublishAsyncErrHandler(func(_ jetstream.JetStream, msg *nats.Msg, err error) {
			t.Errorf("latency run publish %s: %v", msg.Header.Get(wire.HeaderMsgID), err)
		}))
	if err != nil {
		t.Fatal(err)
	}
	return js
}

// lat is one latency run's figures.
type lat struct {
	p50, p99, relayP99, riderP99, max time.Duration
	count                             int
	run                               runtimeStats
}

func (l lat) String() string {
	r := func(d time.Duration) time.Duration { return d.Round(time.Microsecond) }
	return fmt.Sprintf("p50 %s  p99 %s (decided → relay made it: %s; made → rider: %s)  max %s; process %.2f cores, Go scheduler latency p99 ≤ %s, GC %.0f%% of CPU",
		r(l.p50), r(l.p99), r(l.relayP99), r(l.riderP99), r(l.max), l.run.cores, r(l.run.schedP99), 100*l.run.gcShare)
}

// caseTB is a testing.TB whose Cleanup functions run when its case ends
// (done) instead of at the end of the benchmark: without it every case's
// servers and relays stayed up, idle, through the cases after it (about
// forty servers and thirty relays by the latency run), their timers and
// live heap charged to the later cases' CPU, GC and latency.
type caseTB struct {
	testing.TB
	cleanups []func()
}

func (c *caseTB) Cleanup(f func()) { c.cleanups = append(c.cleanups, f) }

// TempDir is a directory removed when the case ends: a finished case's
// stored streams (hundreds of MB over the benchmark) are deleted before
// the kernel writes them back, instead of being written to disk beside
// the later cases, whose every stored message is a write() in the
// stream's loop.
func (c *caseTB) TempDir() string {
	dir, err := os.MkdirTemp("", "passline-bench-case-")
	if err != nil {
		c.Fatal(err)
	}
	c.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

func (c *caseTB) done() {
	for i := len(c.cleanups) - 1; i >= 0; i-- {
		c.cleanups[i]()
	}
}

// scoped runs one case with a TB of its own, and stops what the case
// started (servers, relays, connections) when it returns.
func scoped[T any](t testing.TB, fn func(testing.TB) T) T {
	c := &caseTB{TB: t}
	defer c.done()
	return fn(c)
}

// median runs fn reps times on fresh servers and returns the run of
// median rate, so one run disturbed by the shared machine does not decide
// the figure.
func median(t testing.TB, reps int, fn func(testing.TB) figure) figure {
	var v []figure
	for range reps {
		v = append(v, scoped(t, fn))
	}
	slices.SortFunc(v, func(a, b figure) int { return cmp.Compare(a.rate, b.rate) })
	return v[len(v)/2]
}

// BenchmarkCloudRelay prints the relay's figures once (run with
// -benchtime 1x; b.N is not used): raw consume+ack, the fair baseline (the
// relay's stored writes without the relay), the relay with one and two
// replicas and with the rider outbox off on one server, the relay with
// P = 1 and P = 4 partitions on a 3-node cluster, and latency at half the
// one-replica maximum. The load average is printed before and after: the
// machine may be shared.
func BenchmarkCloudRelay(b *testing.B) {
	var t testing.TB = b
	n := envInt("PASSLINE_BENCH_N", 50000)
	reps := envInt("PASSLINE_BENCH_REPS", 3)
	cr := envInt("PASSLINE_BENCH_CLUSTER_RELAYS", 2)
	cores := runtime.NumCPU()
	loadBefore := loadavg()
	raw := median(t, reps, func(t testing.TB) figure { return rawRate(t, n) })
	fair := median(t, reps, func(t testing.TB) figure { return fairRate(t, n) })
	one := median(t, reps, func(t testing.TB) figure { return relayRate(t, n, 1, true, 0) })
	two := median(t, reps, func(t testing.TB) figure { return relayRate(t, n, 2, true, 0) })
	direct := median(t, reps, func(t testing.TB) figure { return relayRate(t, n, 1, false, 0) })
	// The default re-send check, due benchResend after each delivery
	// instead of the default's minutes, so its cost is measured too.
	withResend := median(t, reps, func(t testing.TB) figure { return relayRate(t, n, 1, true, benchResend) })
	p1 := median(t, reps, func(t testing.TB) figure { return clusterRate(t, n, 1, cr) })
	p4 := median(t, reps, func(t testing.TB) figure { return clusterRate(t, n, 4, cr) })
	// Half of the one-replica maximum, measured through one replica.
	l := scoped(t, func(t testing.TB) lat { return latency(t, one.rate/2, 10*time.Second) })
	tpl := scoped(t, func(t testing.TB) time.Duration { return templatePropagation(t, 5) })
	loadAfter := loadavg()
	var out strings.Builder
	pr := func(format string, args ...any) { fmt.Fprintf(&out, format, args...) }
	row := func(name string, f figure, note string) {
		pr("  %-44s %8.0f msg/s  %6.1f µs CPU/msg  %5.1f allocs/msg  %8.0f msg/s on %d idle cores  %s\n", name, f.rate, f.cpu*1e6, f.allocs, f.idle(cores), cores, note)
	}
	pr("passline cloud relay benchmark (medians of %d runs): %d decisions of %d stores, embedded nats-server in-process, file storage, %d CPUs\n", reps, n, stores, cores)
	pr("  load average before: %s  after: %s\n", loadBefore, loadAfter)
	pr("  (rate: measured now; CPU/msg: this process's CPU time per message, servers included; allocs/msg: heap objects allocated per message; idle cores: %d / CPU per msg)\n", cores)
	row("raw JetStream consume+ack", raw, "")
	row("fair baseline (the relay's 2 stored writes)", fair, fmt.Sprintf("%.0f%% of raw", 100*fair.rate/raw.rate))
	row("relay, 1 replica", one, fmt.Sprintf("%.0f%% of fair (CPU: %.0f%%)", 100*one.rate/fair.rate, 100*fair.cpu/one.cpu))
	row("relay, 2 replicas", two, fmt.Sprintf("%.2fx one replica", two.rate/one.rate))
	row("relay, 1 replica, rider_outbox off", direct, "")
	row(fmt.Sprintf("relay, 1 replica, ready_resend %s", benchResend), withResend,
		fmt.Sprintf("the default config but for the delay (%s): %s", config.DefaultConfig().Relay.ReadyResend, withResend.steadyNote(cores)))
	cl := fmt.Sprintf("3-node cluster, R%d, %d relays", envInt("PASSLINE_BENCH_CLUSTER_REPLICAS", 1), cr)
	row(cl+", P = 1", p1, "")
	row(cl+", P = 4", p4, fmt.Sprintf("%.2fx P = 1", p4.rate/p1.rate))
	pr("  latency at half the 1-replica max (%.0f msg/s, %d msgs, 1 replica): %s\n", one.rate/2, l.count, l)
	pr("  template change → first delivered message using it (median of 5): %s\n", tpl.Round(time.Microsecond))
	pr("  targets (measured rates): 1 replica >= 50%% of fair: %v; >= 4 x 6,645 msg/s: %v (on %d idle cores: %v); p99 <= 50ms: %v; P = 4 >= 1.5 x P = 1: %v\n",
		one.rate >= fair.rate/2, one.rate >= 4*6645, cores, one.idle(cores) >= 4*6645, l.p99 <= 50*time.Millisecond, p4.rate >= 1.5*p1.rate)
	fmt.Printf("\n%s", out.String())
	writeSection(t, out.String())
}

// writeSection puts this run's figures into BENCHMARKS.md (or
// PASSLINE_BENCH_OUT) as its cloud relay section, keeping the rest.
func writeSection(t testing.TB, figures string) {
	path := cmp.Or(os.Getenv("PASSLINE_BENCH_OUT"), "../../BENCHMARKS.md")
	sec := fmt.Sprintf("%s\n\nWritten by `make bench-cloud` (cloud/bench) from the run of %s, as printed; servers, relays and loops in one process on %s. Figures of a machine with other work on it are marked by the load average.\n\n```\n%s```\n\n",
		benchmd.CloudRelay, time.Now().UTC().Format(time.RFC3339), runtime.Version(), figures)
	if err := benchmd.WriteSection(path, benchmd.CloudRelay, []byte(sec)); err != nil {
		t.Error(err)
		return
	}
	fmt.Printf("wrote the cloud relay section of %s\n", path)
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.TrimSpace(string(b))
}

// templatePropagation uploads reps template versions through the HTTP API
// while decisions flow, and returns the median time from the upload's
// answer to the first delivered message rendered with the new version.
func templatePropagation(t testing.TB, reps int) time.Duration {
	s := server(t)
	nc, js := relaytest.Connect(t, s.ClientURL())
	cfg := benchConfig(t, s.ClientURL())
	setup(t, js, cfg)
	assignAll(t, js)
	m := relaytest.MustRun(t, cfg)
	seen := make(chan string, 1024)
	sub, err := nc.Subscribe(wire.RiderWildcard, func(msg *nats.Msg) {
		if n, err := wire.DecodeNotification(msg.Data); err == nil {
			select {
			case seen <- n.Text:
			default:
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	var took []time.Duration
	for v := range reps {
		want := fmt.Sprintf("version %d of {{.ShortCode}}", v)
		req, _ := http.NewRequest("PUT", "http://"+m.HTTPAddr()+"/v1/merchants/s1/templates/ready/zh-CN", strings.NewReader(want)) // assignments name no locale: config locale zh-CN
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("upload template: %v %v", resp, err)
		}
		resp.Body.Close()
		uploaded := time.Now()
		prefix := fmt.Sprintf("version %d of ", v)
		for i := 0; ; i++ {
			o := 1 + stores*(i%(orders/stores)) // an order of store s1, whose template changed
			d := relaytest.Decision(fmt.Sprintf("tpl-%d-%d", v, i), "s1", fmt.Sprintf("o%d", o), wire.KindReady)
			if err := relaytest.Publish(context.Background(), js, d); err != nil {
				t.Fatal(err)
			}
			var text string
			select {
			case text = <-seen:
			case <-time.After(10 * time.Second):
				t.Fatal("no notification in 10s")
			}
			if strings.HasPrefix(text, prefix) {
				took = append(took, time.Since(uploaded))
				break
			}
			if time.Since(uploaded) > 10*time.Second {
				t.Fatalf("template change not seen in 10s; last text %q", text)
			}
		}
	}
	slices.Sort(took)
	return took[len(took)/2]
}
