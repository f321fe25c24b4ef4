//go:build bench

package bench_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	agentapp "github.com/passline/passline/agent/app"
)

// BenchmarkRemovals is the before/after of the bottleneck profiling found
// under BenchmarkSystem: every publish window the uplink deleted its acked
// decisions from the outbox in a transaction of its own, one more fsync
// beside the writer's. Now the writer folds them into its next transaction
// (ingest.Writer.Remove). Each variant starts its own system of
// PASSLINE_BENCH_AB_STORES agents (default 200) — "separate" with
// app.Main.SeparateRemovals set, as before the change, then "folded", as
// the agent runs now — and offers PASSLINE_BENCH_AB_RATE orders/s per store
// (default 2, the step BenchmarkSystem did not sustain before) for the
// warm-up and measurement windows of BenchmarkSystem. It prints both and
// the ratio folded/separate. PASSLINE_BENCH_AB_CPUPROFILE, if set, is a
// path prefix: each variant's measurement window is profiled to
// PREFIX-separate.pprof and PREFIX-folded.pprof.
func BenchmarkRemovals(b *testing.B) {
	n := envInt("PASSLINE_BENCH_AB_STORES", 200)
	rate := envFloat("PASSLINE_BENCH_AB_RATE", 2)
	res := &removalsResult{stores: n}
	for _, v := range []struct {
		name     string
		separate bool
	}{{"separate", true}, {"folded", false}} {
		b.Run(v.name, func(b *testing.B) {
			st, shares := removalsVariant(b, n, rate, v.name, v.separate)
			fmt.Printf("removals %s: %s\n", v.name, st.line())
			if v.separate {
				res.separate, res.sharesBefore = &st, shares
			} else {
				res.folded, res.sharesAfter = &st, shares
			}
		})
	}
	if res.separate == nil || res.folded == nil {
		return
	}
	res.load = loadavg()
	fmt.Printf("\n%s", res.String())
	report.removals = res
}

// removalsVariant runs one step on a fresh system whose agents commit
// removals separately or folded, and returns it with the profile's shares
// (nil without a profile); the system is closed when b ends.
func removalsVariant(b *testing.B, n int, rate float64, name string, separate bool) (step, []string) {
	sys := startSystem(b, n, func(m *agentapp.Main) { m.SeparateRemovals = separate })
	r := subscribeRiders(b, sys.cloud.NATSURL())
	path := ""
	if prefix := os.Getenv("PASSLINE_BENCH_AB_CPUPROFILE"); prefix != "" {
		path = prefix + "-" + name + ".pprof"
	}
	prof := startProfile(b, path)
	st := runStep(b, sys, r, prof, rate, envFloat("PASSLINE_BENCH_SPEED", 60),
		time.Duration(envInt("PASSLINE_BENCH_WARMUP", 10))*time.Second,
		time.Duration(envInt("PASSLINE_BENCH_SECONDS", 30))*time.Second,
		envInt("PASSLINE_BENCH_PUBLISHERS", 8))
	prof.stop()
	if _, dups, bad := r.totals(); dups > 0 || bad > 0 {
		b.Errorf("%s: rider messages %d duplicated, %d unreadable", name, dups, bad)
	}
	if path == "" {
		return st, nil
	}
	return st, profileShares(path)
}

// removalsResult is the before/after pair.
type removalsResult struct {
	stores                    int
	separate, folded          *step
	sharesBefore, sharesAfter []string // CPU profile shares of profiled
	load                      string
}

func (r *removalsResult) String() string {
	s, f := r.separate, r.folded
	ratio := func(a, b float64) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f×", a/b)
	}
	rows := [][]string{
		{"state db commits per event (each commit fsyncs)", fmt.Sprintf("%.2f", s.perEvent()), fmt.Sprintf("%.2f", f.perEvent()), ratio(f.perEvent(), s.perEvent())},
		{"state db commits, all stores", fmt.Sprintf("%.0f tx/s", s.commits), fmt.Sprintf("%.0f tx/s", f.commits), ratio(f.commits, s.commits)},
		{"agent ingest (events committed)", fmt.Sprintf("%.0f ev/s", s.ingest), fmt.Sprintf("%.0f ev/s", f.ingest), ratio(f.ingest, s.ingest)},
		{"ready messages to riders", fmt.Sprintf("%.0f/s", s.ready), fmt.Sprintf("%.0f/s", f.ready), ratio(f.ready, s.ready)},
		{"rider messages", fmt.Sprintf("%.0f/s", s.rider), fmt.Sprintf("%.0f/s", f.rider), ratio(f.rider, s.rider)},
		{"rider latency p50", fmt.Sprintf("%.1f ms", ms(s.p50)), fmt.Sprintf("%.1f ms", ms(f.p50)), ratio(ms(f.p50), ms(s.p50))},
		{"rider latency p99", fmt.Sprintf("%.1f ms", ms(s.p99)), fmt.Sprintf("%.1f ms", ms(f.p99)), ratio(ms(f.p99), ms(s.p99))},
		{"rider latency p999", fmt.Sprintf("%.1f ms", ms(s.p999)), fmt.Sprintf("%.1f ms", ms(f.p999)), ratio(ms(f.p999), ms(s.p999))},
		{"process CPU", fmt.Sprintf("%.2f cores", s.cores()), fmt.Sprintf("%.2f cores", f.cores()), ratio(f.cores(), s.cores())},
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d stores, offered %.0f orders/s (%.2f/store) for %.0f s; load average after %s\n\n",
		r.stores, s.offered, s.ratePerStore, s.seconds, r.load)
	b.WriteString("| figure | before: removals in their own commit | after: folded into the writer's | after / before |\n|---|---|---|---|\n")
	for _, row := range rows {
		fmt.Fprintf(&b, "| %s |\n", strings.Join(row, " | "))
	}
	fmt.Fprintf(&b, "\n- before: %s\n- after: %s\n", s.line(), f.line())
	if r.sharesBefore != nil && r.sharesAfter != nil {
		b.WriteString("\nCPU profile of each measurement window (`go tool pprof -top -cum`), share of all samples:\n\n| function | before | after |\n|---|---|---|\n")
		for i, fn := range profiled {
			fmt.Fprintf(&b, "| `%s` | %s | %s |\n", fn, r.sharesBefore[i], r.sharesAfter[i])
		}
	}
	return b.String()
}

// profiled are the functions whose share of the CPU samples shows the
// commit cost: every state db commit, its fsyncs, and the uplink's own
// removal commits.
var profiled = []string{
	"go.etcd.io/bbolt.(*Tx).Commit",
	"go.etcd.io/bbolt.fdatasync",
	"github.com/passline/passline/agent/bolt.(*DB).RemoveOutbox",
	"github.com/passline/passline/agent/ingest.(*Writer).commit",
}

// profileShares runs `go tool pprof -top -cum` on a profile and returns,
// for each function in profiled, its cumulative share ("-" when absent),
// or nil when pprof cannot be run.
func profileShares(path string) []string {
	out, err := exec.Command("go", "tool", "pprof", "-top", "-cum", "-nodecount=500", path).Output()
	if err != nil {
		return nil
	}
	shares := make([]string, len(profiled))
	for i, fn := range profiled {
		shares[i] = "-"
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) >= 6 && f[5] == fn {
				shares[i] = f[4]
			}
		}
	}
	return shares
}
