//go:build bench

package bench_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/internal/benchmd"
)

// report collects what the benchmarks of this run measured; TestMain
// writes it to PASSLINE_BENCH_OUT when at least one benchmark ran; by
// default to BENCHMARKS.md at the repository root when all of them ran,
// and to a file in the temp dir after a partial run.
var report struct {
	system   *systemResult
	rss      *rssResult
	drains   []drainResult
	removals *removalsResult
}

func TestMain(m *testing.M) {
	code := m.Run()
	if report.system != nil || report.rss != nil || len(report.drains) > 0 || report.removals != nil {
		out := os.Getenv("PASSLINE_BENCH_OUT")
		switch {
		case out != "":
		case report.system != nil && report.rss != nil && len(report.drains) > 0 && report.removals != nil:
			out = "../../BENCHMARKS.md"
		default: // a partial run (-bench one of them) must not replace the whole record
			out = filepath.Join(os.TempDir(), "passline-benchmarks-partial.md")
		}
		if err := os.WriteFile(out, keepCloudRelay(out, markdown()), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "write %s: %v\n", out, err)
			code = 1
		} else {
			fmt.Printf("wrote %s\n", out)
		}
	}
	os.Exit(code)
}

// keepCloudRelay is doc with the cloud relay section of the file at path
// kept: make bench-cloud writes that section from its own run.
func keepCloudRelay(path string, doc []byte) []byte {
	old, err := os.ReadFile(path)
	if err != nil {
		return doc
	}
	if sec := benchmd.Section(old, benchmd.CloudRelay); sec != nil {
		return benchmd.Replace(doc, benchmd.CloudRelay, sec)
	}
	return doc
}

func markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Passline benchmarks\n\nWritten by `make bench` (e2e/bench) from the run of %s. Every figure below is as measured in that run, except the cloud relay section, which `make bench-cloud` writes from its own run (dated in it); nothing is edited by hand.\n\n", time.Now().UTC().Format(time.RFC3339))
	fmt.Fprintf(&b, "Machine: %d CPUs (nproc), %s, %s, %s/%s; load average at the end %s\n\n",
		runtime.NumCPU(), cpuModel(), runtime.Version(), runtime.GOOS, runtime.GOARCH, loadavg())
	if r := report.system; r != nil {
		fmt.Fprintf(&b, "## Whole pipeline (BenchmarkSystem)\n\nOn loopback: simulated kitchens → paho QoS 1 → one MQTT broker → agents (bbolt, fsync on) → JetStream → relay (auto-assign) → `passline.rider.*.notify.*`. Kitchens, agents and relay run in this one process; the brokers are the machine's own when `make bench` finds them listening on 1883 and 4222, else embedded in the process. Raw limits measured first, on the same broker and server, with the agents connected and idle.\n\n%s.\n\n", r.header())
		b.WriteString("Offered load steps (a step is sustained when ready messages are at least 90% of the orders offered and p99 ≤ 1 s):\n\n")
		for _, s := range r.steps {
			fmt.Fprintf(&b, "- %s\n", s.line())
		}
		b.WriteString("\n| figure | measured | raw limit | ratio to limit |\n|---|---|---|---|\n")
		for _, row := range r.rows() {
			fmt.Fprintf(&b, "| %s |\n", strings.Join(row, " | "))
		}
		b.WriteString("\nCPU and RSS are this process's (relay, kitchens and any embedded broker included; a real broker's are not) divided by the number of stores, so they are upper bounds for one agent.\n\n")
	}
	if r := report.removals; r != nil {
		fmt.Fprintf(&b, "## The bottleneck: outbox removals in their own commit (BenchmarkRemovals)\n\nA CPU profile of the pipeline (below, \"before\") puts the agents' state db commits and their fsyncs at the top: after every publish window the uplink deleted the acked decisions in a transaction of its own, beside the writer's. The writer now folds them into its next event's transaction (`ingest.Writer.Remove`), and commits them on their own only when no event came for `RemoveLinger` (1 s) or `RemoveMax` (1,024) are queued. Each run below is a fresh system of agents under the same load, before (`app.Main.SeparateRemovals`) or after; the two alternate (A B B A …) so that drift in the machine's load falls on both alike. One rate both variants sustain, then a higher one:\n\n%s\n", r.String())
	}
	if r := report.rss; r != nil {
		fmt.Fprintf(&b, "## One agent with 1,000 open orders (BenchmarkAgentRSS)\n\n%s\n\n", r.String())
	}
	if len(report.drains) > 0 {
		b.WriteString("## Outbox drain after an outage (BenchmarkOutboxDrain)\n\nThe target (≤ 10 s) applies to the agent as it runs, with removals folded; the separate run is the comparison.\n\n")
		for _, r := range report.drains {
			fmt.Fprintf(&b, "- %s\n", r.String())
		}
		b.WriteString("\n")
	}
	return b.Bytes()
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	out, _ := exec.Command("uname", "-m").Output()
	return strings.TrimSpace(string(out))
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return strings.TrimSpace(string(b))
}
