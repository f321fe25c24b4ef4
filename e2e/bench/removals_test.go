//go:build bench

package bench_test

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	agentapp "github.com/passline/passline/agent/app"
)

// BenchmarkRemovals compares the two ways to delete published decisions
// from the outbox, the bottleneck profiling found under BenchmarkSystem:
// "separate", the uplink's acked decisions deleted in a transaction of
// their own every publish window (one more fsync beside the writer's;
// app.Main.SeparateRemovals), and "folded", the writer folding them into
// its next transaction (ingest.Writer.Remove), as the agent runs. Each run
// starts its own system of PASSLINE_BENCH_AB_STORES agents (default 200)
// with one of the two and offers one rate from PASSLINE_BENCH_AB_RATES
// (orders/s per store, default "1,2": a load both variants sustain, then
// one that saturates them) for the warm-up and measurement windows of
// BenchmarkSystem. Each rate runs PASSLINE_BENCH_AB_ROUNDS rounds (default
// 2), alternating which variant goes first (A B B A …), so drift in the
// machine's load falls on both alike. It prints every run and, per rate,
// the mean of each variant and the ratio folded/separate.
// PASSLINE_BENCH_AB_CPUPROFILE, if set, is a path prefix: the first run
// of each variant at the first rate is profiled to PREFIX-separate.pprof
// and PREFIX-folded.pprof.
func BenchmarkRemovals(b *testing.B) {
	n := envInt("PASSLINE_BENCH_AB_STORES", 200)
	rates, err := envRates("PASSLINE_BENCH_AB_RATES", []float64{1, 2})
	if err != nil {
		b.Fatal(err)
	}
	rounds := envInt("PASSLINE_BENCH_AB_ROUNDS", 2)
	res := &removalsResult{stores: n, rounds: rounds}
	for ri, rate := range rates {
		ab := removalsAB{rate: rate}
		for round := range rounds {
			order := []bool{true, false} // separate first
			if round%2 == 1 {
				order = []bool{false, true}
			}
			for _, separate := range order {
				name := variantName(separate)
				b.Run(fmt.Sprintf("rate=%g/%s-%d", rate, name, round+1), func(b *testing.B) {
					runs, shares := &ab.folded, &res.sharesAfter
					if separate {
						runs, shares = &ab.separate, &res.sharesBefore
					}
					st, sh := removalsVariant(b, n, rate, name, separate, ri == 0 && round == 0)
					fmt.Printf("removals %s round %d: %s\n", name, round+1, st.line())
					*runs = append(*runs, st)
					if sh != nil {
						*shares = sh
					}
				})
			}
		}
		if len(ab.separate) == 0 || len(ab.folded) == 0 {
			return
		}
		res.rates = append(res.rates, ab)
	}
	res.load = loadavg()
	fmt.Printf("\n%s", res.String())
	report.removals = res
}

func variantName(separate bool) string {
	if separate {
		return "separate"
	}
	return "folded"
}

// envRates parses a comma-separated list of positive rates, or returns def
// when the variable is unset.
func envRates(name string, def []float64) ([]float64, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	var rates []float64
	for _, f := range strings.Split(v, ",") {
		r, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || r <= 0 {
			return nil, fmt.Errorf("%s=%q: want positive orders/s per store, comma-separated", name, v)
		}
		rates = append(rates, r)
	}
	return rates, nil
}

// removalsVariant runs one step on a fresh system whose agents commit
// removals separately or folded, and returns it with the profile's shares
// (nil without a profile); the system is closed when b ends.
func removalsVariant(b *testing.B, n int, rate float64, name string, separate, profile bool) (step, []string) {
	sys := startSystem(b, n, func(m *agentapp.Main) { m.SeparateRemovals = separate })
	r := subscribeRiders(b, sys)
	path := ""
	if prefix := os.Getenv("PASSLINE_BENCH_AB_CPUPROFILE"); prefix != "" && profile {
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

// removalsAB is one rate's runs of both variants.
type removalsAB struct {
	rate             float64
	separate, folded []step
}

// removalsResult is the before/after at every rate.
type removalsResult struct {
	stores, rounds            int
	rates                     []removalsAB
	sharesBefore, sharesAfter []string // CPU profile shares of profiled
	load                      string
}

// mean averages one figure over runs.
func mean(runs []step, f func(step) float64) float64 {
	var sum float64
	for _, s := range runs {
		sum += f(s)
	}
	return sum / float64(len(runs))
}

// spread is every run's value of a figure, "a / b / …".
func spread(runs []step, f func(step) float64, format string) string {
	vs := make([]string, len(runs))
	for i, s := range runs {
		vs[i] = fmt.Sprintf(format, f(s))
	}
	return strings.Join(vs, " / ")
}

func (r *removalsResult) String() string {
	type figure struct {
		name, format string
		f            func(step) float64
	}
	figures := []figure{
		{"state db commits per event (each commit fsyncs)", "%.2f", step.perEvent},
		{"state db commits, all stores (tx/s)", "%.0f", func(s step) float64 { return s.commits }},
		{"agent ingest (events committed/s)", "%.0f", func(s step) float64 { return s.ingest }},
		{"ready messages to riders (/s)", "%.0f", func(s step) float64 { return s.ready }},
		{"rider messages (/s)", "%.0f", func(s step) float64 { return s.rider }},
		{"rider latency p50 (ms)", "%.1f", func(s step) float64 { return ms(s.p50) }},
		{"rider latency p99 (ms)", "%.1f", func(s step) float64 { return ms(s.p99) }},
		{"rider latency p999 (ms)", "%.1f", func(s step) float64 { return ms(s.p999) }},
		{"process CPU (cores)", "%.2f", func(s step) float64 { return s.cores }},
		{"CPU per ready message (ms)", "%.2f", func(s step) float64 {
			if s.ready == 0 {
				return 0
			}
			return s.cores / s.ready * 1000
		}},
	}
	var b strings.Builder
	for _, ab := range r.rates {
		s0 := ab.separate[0]
		fmt.Fprintf(&b, "### %d stores, offered %.0f orders/s (%.2f/store), %d rounds of %.0f s each, order A B B A …\n\n",
			r.stores, s0.offered, ab.rate, r.rounds, s0.seconds)
		b.WriteString("| figure | before: removals in their own commit (each run) | mean | after: folded into the writer's (each run) | mean | after / before (means) |\n|---|---|---|---|---|---|\n")
		for _, fg := range figures {
			ms, mf := mean(ab.separate, fg.f), mean(ab.folded, fg.f)
			ratio := "-"
			if ms != 0 {
				ratio = fmt.Sprintf("%.2f×", mf/ms)
			}
			fmt.Fprintf(&b, "| %s | %s | "+fg.format+" | %s | "+fg.format+" | %s |\n",
				fg.name, spread(ab.separate, fg.f, fg.format), ms, spread(ab.folded, fg.f, fg.format), mf, ratio)
		}
		sus := func(runs []step) string {
			n := 0
			for _, s := range runs {
				if s.sustained() {
					n++
				}
			}
			return fmt.Sprintf("%d of %d", n, len(runs))
		}
		fmt.Fprintf(&b, "\nSustained: before %s runs, after %s.\n\n", sus(ab.separate), sus(ab.folded))
	}
	fmt.Fprintf(&b, "Load average after: %s\n", r.load)
	if r.sharesBefore != nil && r.sharesAfter != nil {
		b.WriteString("\nCPU profile of the first measurement window of each variant at the first rate (`go tool pprof -top -cum`), share of all samples:\n\n| function | before | after |\n|---|---|---|\n")
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
