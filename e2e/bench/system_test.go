//go:build bench

package bench_test

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"testing"
	"time"

	"github.com/passline/passline/cloud/bench/rawjs"
)

// BenchmarkSystem is `make bench`: PASSLINE_BENCH_STORES agents (default
// 200) with simulated kitchens, the relay with auto-assign, one MQTT broker
// and one JetStream server, all in this process. The offered load steps
// through PASSLINE_BENCH_RATES (orders a second per store, default
// "0.5,1,1.5,2,3,4"), stopping after the first step not sustained; at each
// step, after PASSLINE_BENCH_WARMUP seconds (default 10), it measures for PASSLINE_BENCH_SECONDS (default 30): rider
// messages/s on passline.rider.*.notify, their latency from the decision's
// CreatedAt, agent ingest commits/s, process CPU and RSS per store. The
// sustained figure is the highest step whose ready messages keep up with
// the orders offered (≥ 90%) with p99 ≤ 1 s. The raw limits are measured
// first, on the same broker and server, with the agents connected and idle.
// PASSLINE_BENCH_CPUPROFILE names a file for a CPU profile of the
// measurement windows only. Run with -benchtime 1x: b.N is not used, the
// table is printed and kept for BENCHMARKS.md.
func BenchmarkSystem(b *testing.B) {
	n := envInt("PASSLINE_BENCH_STORES", 200)
	speed := envFloat("PASSLINE_BENCH_SPEED", 60)
	warm := time.Duration(envInt("PASSLINE_BENCH_WARMUP", 10)) * time.Second
	dur := time.Duration(envInt("PASSLINE_BENCH_SECONDS", 30)) * time.Second
	groups := envInt("PASSLINE_BENCH_PUBLISHERS", 8)
	rates, err := envRates("PASSLINE_BENCH_RATES", []float64{0.5, 1, 1.5, 2, 3, 4})
	if err != nil {
		b.Fatal(err)
	}

	// Earlier benchmarks in this process leave garbage behind; return it
	// to the OS so that the deltas below are this system's.
	debug.FreeOSMemory()
	rssBase := statusKB("self", "VmRSS")
	sys := startSystem(b, n, nil)
	debug.FreeOSMemory()
	rssIdle := statusKB("self", "VmRSS")
	r := subscribeRiders(b, sys)
	prof := startProfile(b, os.Getenv("PASSLINE_BENCH_CPUPROFILE"))

	// Raw limits on the same broker and server, before any load, agents
	// connected and idle.
	res0 := systemResult{}
	res0.rawPaho = rawPaho(b, sys.mqttURL, envInt("PASSLINE_BENCH_RAW_MQTT", 5000))
	res0.rawJS = rawjs.Rate(b, sys.natsURL, envInt("PASSLINE_BENCH_RAW_JS", 20000), 300)
	res0.rawBoltTx, _ = rawBolt(b, 16, 1, 5*time.Second)
	_, res0.rawBoltRec = rawBolt(b, 1, 512, 5*time.Second)

	res := res0
	res.stores, res.rssIdlePerMB, res.best = n, float64(rssIdle-rssBase)/1024/float64(n), -1
	res.brokers = sys.brokers()
	for _, rate := range rates {
		st := runStep(b, sys, r, prof, rate, speed, warm, dur, groups)
		st.rssLoadPerMB = float64(statusKB("self", "VmRSS")-rssBase) / 1024 / float64(n)
		fmt.Printf("step: %s\n", st.line())
		res.steps = append(res.steps, st)
		if !st.sustained() {
			break // the limit is found; higher steps would only queue
		}
		res.best = len(res.steps) - 1
	}
	prof.stop()
	res.riderTotal, res.dups, res.bad = r.totals()

	res.print()
	report.system = &res
	if res.dups > 0 || res.bad > 0 {
		b.Errorf("rider messages: %d duplicated, %d unreadable", res.dups, res.bad)
	}
}

// runStep offers rate orders/s per store for warm+dur, measures the
// window, then stops the kitchens and waits for what is in flight.
func runStep(tb testing.TB, sys *system, r *riders, prof *profile, rate, speed float64, warm, dur time.Duration, groups int) step {
	r.reset()
	ld := startLoad(tb, sys.mqttURL, sys.stores, kitchenConfig(rate, speed), groups)
	time.Sleep(warm)
	c0, tx0, cpu0, t0 := sys.committed(), sys.commits.Load(), cpuTime(), time.Now()
	prof.resume()
	r.record(true)
	time.Sleep(dur)
	r.record(false)
	c1, tx1, cpu1, t1 := sys.committed(), sys.commits.Load(), cpuTime(), time.Now()
	published, failed := ld.stop()
	// Let the backlog drain so the next step starts from idle.
	if !waitFor(120*time.Second, sys.idle) {
		tb.Logf("rate %.2f: agents still busy 120s after the kitchens stopped", rate)
	}
	window := t1.Sub(t0).Seconds()
	p50, p99, p999 := r.percentiles()
	r.mu.Lock()
	delivered, ready := r.window, r.ready
	r.mu.Unlock()
	n := float64(len(sys.stores))
	return step{
		ratePerStore: rate, offered: rate * n, seconds: window, published: published, failed: failed,
		rider: float64(delivered) / window, ready: float64(ready) / window,
		ingest: float64(c1-c0) / window, commits: float64(tx1-tx0) / window, p50: p50, p99: p99, p999: p999,
		cores: (cpu1 - cpu0).Seconds() / window, stores: len(sys.stores),
	}
}

// step is one offered load's measurement.
type step struct {
	ratePerStore, offered, seconds float64
	published, failed              int
	rider, ready, ingest           float64
	commits                        float64 // agents' write transactions a second (each fsyncs)
	p50, p99, p999                 time.Duration
	cores                          float64 // the whole process's CPU seconds a second
	stores                         int
	rssLoadPerMB                   float64
}

func (s step) sustained() bool { return s.ready >= 0.9*s.offered && s.p99 <= time.Second }

func (s step) line() string {
	rss := "" // measured by BenchmarkSystem only
	if s.rssLoadPerMB != 0 {
		rss = fmt.Sprintf(", RSS/store %.2f MB", s.rssLoadPerMB)
	}
	return fmt.Sprintf("offered %.0f orders/s (%.2f/store): ready %.0f/s, rider messages %.0f/s, ingest %.0f ev/s, state db commits %.0f tx/s (%.2f per event), latency p50 %.1f ms p99 %.1f ms p999 %.1f ms, CPU %.2f cores%s, events published %d failed %d, sustained %v",
		s.offered, s.ratePerStore, s.ready, s.rider, s.ingest, s.commits, s.perEvent(), ms(s.p50), ms(s.p99), ms(s.p999), s.cores, rss, s.published, s.failed, s.sustained())
}

// perEvent is state db commits per committed event.
func (s step) perEvent() float64 {
	if s.ingest == 0 {
		return 0
	}
	return s.commits / s.ingest
}

// cpuPerStore is the process's CPU seconds a second per store.
func (s step) cpuPerStore() float64 { return s.cores / float64(s.stores) }

type systemResult struct {
	stores                int
	brokers               string // what the system ran on (system.brokers)
	rssIdlePerMB          float64
	steps                 []step
	best                  int // index of the highest sustained step, -1 if none
	riderTotal, dups, bad int64
	rawPaho, rawJS        float64
	rawBoltTx, rawBoltRec float64
}

// headline is the highest sustained step, or the last one when none was.
func (r systemResult) headline() step {
	if r.best >= 0 {
		return r.steps[r.best]
	}
	return r.steps[len(r.steps)-1]
}

func (r systemResult) rows() [][]string {
	s := r.headline()
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	pct := func(a, b float64) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f%%", 100*a/b)
	}
	return [][]string{
		{"rider messages delivered end to end (sustained)", f(s.rider) + " msg/s", "JetStream consume+ack " + f(r.rawJS) + " msg/s", pct(s.rider, r.rawJS)},
		{"  of which ready (one per order)", f(s.ready) + " msg/s", "orders offered " + f(s.offered) + "/s", pct(s.ready, s.offered)},
		{"agent ingest (events committed, all stores)", f(s.ingest) + " ev/s", "paho QoS 1 passthrough " + f(r.rawPaho) + " msg/s", pct(s.ingest, r.rawPaho)},
		{"agent ingest vs bbolt commits", f(s.ingest) + " ev/s", "bbolt 1-record commits, 16 files " + f(r.rawBoltTx) + " tx/s", pct(s.ingest, r.rawBoltTx)},
		{"agent ingest vs bbolt batches", f(s.ingest) + " ev/s", "bbolt 512-record batches, 1 file " + f(r.rawBoltRec) + " rec/s", pct(s.ingest, r.rawBoltRec)},
		{"rider latency p50 (CreatedAt → received)", fmt.Sprintf("%.1f ms", ms(s.p50)), "", ""},
		{"rider latency p99", fmt.Sprintf("%.1f ms", ms(s.p99)), "", ""},
		{"rider latency p999", fmt.Sprintf("%.1f ms", ms(s.p999)), "", ""},
		{"CPU per store (whole process / stores)", fmt.Sprintf("%.2f ms/s (%.2f%% of a core)", 1000*s.cpuPerStore(), 100*s.cpuPerStore()), "", ""},
		{"RSS per store, idle (whole process delta / stores)", fmt.Sprintf("%.2f MB", r.rssIdlePerMB), "", ""},
		{"RSS per store, under load", fmt.Sprintf("%.2f MB", s.rssLoadPerMB), "", ""},
	}
}

func (r systemResult) header() string {
	sus := "none of the steps was sustained; the table shows the last"
	if r.best >= 0 {
		sus = fmt.Sprintf("highest sustained step %.0f orders/s", r.steps[r.best].offered)
	}
	return fmt.Sprintf("%d stores on %s; %s; rider messages in total %d, duplicates %d, unreadable %d",
		r.stores, r.brokers, sus, r.riderTotal, r.dups, r.bad)
}

func (r systemResult) print() {
	fmt.Printf("\npassline whole-system benchmark: %s\n", r.header())
	for _, s := range r.steps {
		fmt.Printf("  step %s\n", s.line())
	}
	for _, row := range r.rows() {
		fmt.Printf("  %-52s %-34s %-48s %s\n", row[0], row[1], row[2], row[3])
	}
}
