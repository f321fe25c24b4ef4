//go:build bench

package app_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/agent/app"
	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/wire"
)

// TestBenchAgent is `make bench-agent`: it prints the raw paho QoS 1
// publish→receive rate through the agent's embedded broker, the agent's
// ingest rate (publish → committed → acked) through the same broker, their
// ratio, and bump → JetStream latency p50/p99 at a fixed 200 events/s. It
// runs the real Main with the default decider. Raw and ingest are measured
// in BENCH_ROUNDS rounds (default 3), each on a fresh agent and JetStream,
// with the outbox removals folded into the writer's transaction (as the
// agent runs) and, for comparison, in their own commit
// (app.Main.SeparateRemovals, one more fsync per publish window), alternating
// which goes first; the figures are the medians. BENCH_N sets the message
// count per run (default 5000; mochi itself does not deliver a burst above
// its 8192 pending writes per client).
func TestBenchAgent(t *testing.T) { benchAgent(t) }

// BenchmarkAgent runs the same measurement once per call (make
// bench-agent uses -benchtime 1x); b.N is ignored, the figures are printed.
func BenchmarkAgent(b *testing.B) { benchAgent(b) }

func benchAgent(t testing.TB) {
	n, rounds := 5000, 3
	if v := os.Getenv("BENCH_N"); v != "" {
		fmt.Sscan(v, &n)
	}
	if v := os.Getenv("BENCH_ROUNDS"); v != "" {
		fmt.Sscan(v, &rounds)
	}
	// One run: a fresh agent, the raw rate through its broker, then its ingest.
	type run struct{ raw, ingest float64 }
	measure := func(separate bool) run {
		ns := at.StartNATS(t, t.TempDir(), -1)
		m := runMain(t, testConfig("bench", ns.URL(), t.TempDir()), nil, func(m *app.Main) { m.SeparateRemovals = separate })
		url := "tcp://" + m.MQTTAddr()
		raw := rawRate(t, url, n)
		return run{raw, ingestRate(t, m.Writer.Committed, url, n)}
	}
	var folded, separate []run
	for r := range rounds {
		if r%2 == 0 {
			folded = append(folded, measure(false))
			separate = append(separate, measure(true))
		} else {
			separate = append(separate, measure(true))
			folded = append(folded, measure(false))
		}
	}
	med := func(runs []run, f func(run) float64) float64 {
		vs := make([]float64, len(runs))
		for i, r := range runs {
			vs[i] = f(r)
		}
		sort.Float64s(vs)
		return vs[len(vs)/2]
	}
	raw := func(r run) float64 { return r.raw }
	ingest := func(r run) float64 { return r.ingest }
	ratio := func(r run) float64 { return r.ingest / r.raw }
	// Latency on a fresh agent: the rate runs leave thousands of open orders.
	ns2 := at.StartNATS(t, t.TempDir(), -1)
	m2 := runMain(t, testConfig("bench", ns2.URL(), t.TempDir()), nil)
	p50, p99, count := bumpLatency(t, "tcp://"+m2.MQTTAddr(), ns2.URL(), 200, 10*time.Second)
	fmt.Printf("\npassline-agent bench (%d messages per run, QoS 1, %d rounds, medians)\n", n, rounds)
	fmt.Printf("  raw paho QoS1 publish->receive: %8.0f msg/s\n", med(slices.Concat(folded, separate), raw))
	fmt.Printf("  agent ingest (commit+ack):      %8.0f msg/s\n", med(folded, ingest))
	fmt.Printf("  ratio agent/raw:                %8.2f  (target >= 0.50; per run %s)\n", med(folded, ratio), runsOf(folded, ratio))
	fmt.Printf("  removals in their own commit:  ingest %.0f msg/s, ratio %.2f (per run %s)\n",
		med(separate, ingest), med(separate, ratio), runsOf(separate, ratio))
	// The same through Mosquitto: the paho source, acked after commit.
	mq := at.StartMosquitto(t)
	var viaMosquitto []run
	for range rounds {
		ns := at.StartNATS(t, t.TempDir(), -1)
		c := testConfig("bench", ns.URL(), t.TempDir())
		c.MQTT.Embedded.Enabled, c.MQTT.URL = false, mq.URL()
		m := runMain(t, c, nil)
		at.Eventually(t, 30*time.Second, "subscribed to Mosquitto", m.MQTTConnected)
		viaMosquitto = append(viaMosquitto, run{rawRate(t, mq.URL(), n), ingestRate(t, m.Writer.Committed, mq.URL(), n)})
		m.Close()
	}
	fmt.Printf("  embedded broker (committed before PUBACK): raw %.0f msg/s, ingest %.0f msg/s, ratio %.2f\n",
		med(folded, raw), med(folded, ingest), med(folded, ratio))
	fmt.Printf("  Mosquitto (paho source, ack after commit): raw %.0f msg/s, ingest %.0f msg/s, ratio %.2f (per run %s)\n",
		med(viaMosquitto, raw), med(viaMosquitto, ingest), med(viaMosquitto, ratio), runsOf(viaMosquitto, ratio))
	fmt.Printf("  bump -> JetStream at 200 ev/s:  p50 %.1f ms  p99 %.1f ms  over %d bumps  (target p99 <= 25 ms)\n",
		ms(p50), ms(p99), count)
}

// runsOf formats f of every run, "a b c".
func runsOf[R any](runs []R, f func(R) float64) string {
	s := ""
	for i, r := range runs {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%.2f", f(r))
	}
	return s
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// publishAll publishes payloads with QoS 1 without waiting per message,
// then waits for every broker ack.
func publishAll(t testing.TB, c paho.Client, topics []string, payloads [][]byte) {
	toks := make([]paho.Token, len(payloads))
	for i := range payloads {
		toks[i] = c.Publish(topics[i], 1, false, payloads[i])
	}
	for _, tok := range toks {
		if !tok.WaitTimeout(60*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
}

func rawRate(t testing.TB, url string, n int) float64 {
	var got atomic.Int64
	opts := paho.NewClientOptions().AddBroker(url).SetClientID("bench-raw-sub").SetCleanSession(true)
	sub := paho.NewClient(opts)
	if tok := sub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer sub.Disconnect(100)
	if tok := sub.Subscribe("bench/raw/#", 1, func(paho.Client, paho.Message) { got.Add(1) }); !tok.WaitTimeout(10 * time.Second) {
		t.Fatal("subscribe")
	}
	topics, payloads := eventsFor(t, "rawbench", n)
	for i := range topics {
		topics[i] = "bench/raw/x"
	}
	pub := at.Publisher(t, url)
	start := time.Now()
	publishAll(t, pub, topics, payloads)
	at.Eventually(t, 120*time.Second, "raw messages received", func() bool { return got.Load() >= int64(n) })
	return float64(n) / time.Since(start).Seconds()
}

func ingestRate(t testing.TB, committed func() int64, url string, n int) float64 {
	topics, payloads := eventsFor(t, "bench", n)
	before := committed()
	pub := at.Publisher(t, url)
	start := time.Now()
	publishAll(t, pub, topics, payloads)
	at.Eventually(t, 120*time.Second, "events committed", func() bool { return committed()-before >= int64(n) })
	return float64(n) / time.Since(start).Seconds()
}

// eventsFor builds n distinct ticket events (so none is a duplicate).
func eventsFor(t testing.TB, store string, n int) ([]string, [][]byte) {
	topics, payloads := make([]string, n), make([][]byte, n)
	now := time.Now()
	for i := range n {
		ev := at.Ticket(store, fmt.Sprintf("r%d", i), "grill", now)
		b, err := ev.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		topics[i], payloads[i] = at.Topic(ev), b
	}
	return topics, payloads
}

// bumpLatency sends ticket/bump pairs at rate events/s for d and measures,
// per bump, the time from publish to the ready decision being delivered
// from the stream (so after JetStream stored and acked it).
func bumpLatency(t testing.TB, url, natsURL string, rate int, d time.Duration) (p50, p99 time.Duration, n int) {
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	cons, err := js.OrderedConsumer(ctx, wire.StreamDecisions, jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverNewPolicy, FilterSubjects: []string{wire.DecisionSubject("bench")}})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	sent := map[string]time.Time{}
	var lat []time.Duration
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		now := time.Now()
		dec, err := wire.DecodeDecision(msg.Data())
		if err != nil || dec.Kind != wire.KindReady {
			return
		}
		mu.Lock()
		if at, ok := sent[dec.EventID]; ok {
			lat = append(lat, now.Sub(at))
		}
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Stop()
	pub := at.Publisher(t, url)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.Now().Add(d)
	for i := 0; time.Now().Before(end); i++ {
		<-tick.C
		o := fmt.Sprintf("l%d", i/2)
		// Cooking for 4 min, inside ingest.stale_after (5 min): an older
		// ticket is stale and its bump would tell no rider anything.
		ev := at.Ticket("bench", o, "grill", time.Now().Add(-4*time.Minute))
		if i%2 == 1 {
			ev = at.Bump("bench", o, time.Now())
			mu.Lock()
			sent[ev.ID] = time.Now()
			mu.Unlock()
		}
		b, _ := ev.Marshal()
		pub.Publish(at.Topic(ev), 1, false, b) // not waited: keep the pace
	}
	mu.Lock()
	want := len(sent)
	mu.Unlock()
	at.Eventually(t, 30*time.Second, "ready decisions for every bump", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(lat) >= want
	})
	mu.Lock()
	defer mu.Unlock()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[len(lat)/2], lat[len(lat)*99/100], len(lat)
}
