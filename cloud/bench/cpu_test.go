//go:build bench

package bench_test

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"testing"
	"time"
)

// BenchmarkRelayCPU compares the relay's CPU per decision with the fair
// baseline's, interleaved (fair, relay, fair, relay, ...) on fresh servers,
// so both see the same machine: the figure to watch while changing the
// relay's hot path on a shared machine. It runs only with
// PASSLINE_BENCH_AB=1 (make bench-cloud skips it); PASSLINE_BENCH_N and
// PASSLINE_BENCH_REPS set the size. With -cpuprofile the profile covers
// both loops. PASSLINE_BENCH_RESEND (a duration, say 90s) runs the relay
// with that relay.ready_resend instead of off, and counts its re-send
// checks too (figure.steady; a short one, say 2s, keeps the wait for the
// last checks short).
func BenchmarkRelayCPU(b *testing.B) {
	if os.Getenv("PASSLINE_BENCH_AB") == "" {
		b.Skip("set PASSLINE_BENCH_AB=1")
	}
	n := envInt("PASSLINE_BENCH_N", 20000)
	reps := envInt("PASSLINE_BENCH_REPS", 3)
	resend, _ := time.ParseDuration(os.Getenv("PASSLINE_BENCH_RESEND"))
	fmt.Printf("\nrelay vs fair baseline, interleaved, %d decisions, load before: %s\n", n, loadavg())
	for k := range reps {
		var fair figure
		if os.Getenv("PASSLINE_BENCH_RELAY_ONLY") == "" {
			fair = scoped(b, func(t testing.TB) figure { return fairRate(t, n) })
		}
		one := scoped(b, func(t testing.TB) figure { return relayRate(t, n, 1, true, resend) })
		fmt.Printf("  rep %d: fair %6.0f msg/s %5.1f µs CPU/msg %5.1f allocs/msg   relay %6.0f msg/s %5.1f µs CPU/msg %5.1f allocs/msg  %s (load %s)\n",
			k, fair.rate, fair.cpu*1e6, fair.allocs, one.rate, one.cpu*1e6, one.allocs, one.steadyNote(runtime.NumCPU()), loadavg())
	}
}

// profile starts a CPU profile into PASSLINE_BENCH_PROFILE (with the run
// number appended) when it is set, and returns what stops it; relayRate
// profiles the relay's run alone, without the preload.
func profile(t testing.TB) func() {
	path := os.Getenv("PASSLINE_BENCH_PROFILE")
	if path == "" {
		return func() {}
	}
	profiles++
	f, err := os.Create(fmt.Sprintf("%s.%d", path, profiles))
	if err != nil {
		t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

var profiles int

// BenchmarkRelayLatency prints the relay's latency at PASSLINE_BENCH_RATE
// decisions/s (default 10000) for 10 s, PASSLINE_BENCH_REPS times; it runs
// only with PASSLINE_BENCH_AB=1.
func BenchmarkRelayLatency(b *testing.B) {
	if os.Getenv("PASSLINE_BENCH_AB") == "" {
		b.Skip("set PASSLINE_BENCH_AB=1")
	}
	rate := envInt("PASSLINE_BENCH_RATE", 10000)
	for k := range envInt("PASSLINE_BENCH_REPS", 1) {
		load := loadavg()
		l := scoped(b, func(t testing.TB) lat { return latency(t, float64(rate), 10*time.Second) })
		fmt.Printf("  rep %d at %d msg/s: %s  (load %s → %s)\n", k, rate, l, load, loadavg())
	}
}
