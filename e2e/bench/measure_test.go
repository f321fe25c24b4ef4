//go:build bench

package bench_test

import (
	"bufio"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/passline/passline/wire"
)

// riders records every rider notification for the system's stores:
// totals, duplicates by decision id, and the latency decision CreatedAt
// (DecidedAt) → received of those received while recording is on. On a
// shared, real NATS server, notifications for other stores are ignored.
type riders struct {
	mu        sync.Mutex
	sub       *nats.Subscription
	stores    map[string]bool
	recording bool
	total     int64
	bad       int64
	dups      int64
	window    int64
	ready     int64
	seen      map[string]struct{}
	lat       []time.Duration
}

func subscribeRiders(tb testing.TB, sys *system) *riders {
	tb.Helper()
	url := sys.natsURL
	nc, err := nats.Connect(url, nats.MaxReconnects(-1))
	if err != nil {
		tb.Fatalf("connect %s: %v", url, err)
	}
	tb.Cleanup(nc.Close)
	r := &riders{seen: make(map[string]struct{}, 1<<16), stores: make(map[string]bool, len(sys.stores))}
	for _, s := range sys.stores {
		r.stores[s] = true
	}
	r.sub, err = nc.Subscribe(wire.RiderWildcard, r.handle)
	if err != nil {
		tb.Fatal(err)
	}
	// The relay's fan-out is the load: do not let the client drop it.
	if err := r.sub.SetPendingLimits(-1, -1); err != nil {
		tb.Fatal(err)
	}
	return r
}

func (r *riders) handle(m *nats.Msg) {
	now := time.Now()
	n, err := wire.DecodeNotification(m.Data)
	if err == nil && !r.stores[n.Store] {
		return // another store's, on a shared server
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total++
	if err != nil {
		r.bad++
		return
	}
	if _, dup := r.seen[n.ID]; dup {
		r.dups++
		return
	}
	r.seen[n.ID] = struct{}{}
	if r.recording {
		r.window++
		if n.Kind == wire.KindReady {
			r.ready++
		}
		r.lat = append(r.lat, now.Sub(n.DecidedAt))
	}
}

// record turns the measurement window on or off.
func (r *riders) record(on bool) {
	r.mu.Lock()
	r.recording = on
	r.mu.Unlock()
}

func (r *riders) totals() (total, dups, bad int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.total, r.dups, r.bad
}

// percentiles returns the p50, p99 and p999 of the window's latencies.
func (r *riders) percentiles() (p50, p99, p999 time.Duration) {
	r.mu.Lock()
	l := slices.Clone(r.lat)
	r.mu.Unlock()
	return quantiles(l)
}

func quantiles(l []time.Duration) (p50, p99, p999 time.Duration) {
	if len(l) == 0 {
		return 0, 0, 0
	}
	slices.Sort(l)
	at := func(q float64) time.Duration { return l[min(len(l)-1, int(q*float64(len(l))))] }
	return at(0.5), at(0.99), at(0.999)
}

// cpuTime is this process's user+system CPU time so far (getrusage).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// statusKB reads a "Vm...:  N kB" line of /proc/<pid>/status ("self" for
// this process); 0 when unreadable.
func statusKB(pid, field string) int64 {
	f, err := os.Open("/proc/" + pid + "/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func envFloat(name string, def float64) float64 {
	if f, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil && f > 0 {
		return f
	}
	return def
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// reset clears the window's figures before a new step.
func (r *riders) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.window, r.ready, r.lat = 0, 0, r.lat[:0]
}

// profile is an optional CPU profile, written to a file, from the first
// measurement window to the end of the last.
type profile struct {
	f       *os.File
	started bool
}

// startProfile prepares a CPU profile to path; "" profiles nothing.
func startProfile(tb testing.TB, path string) *profile {
	p := &profile{}
	if path != "" {
		f, err := os.Create(path)
		if err != nil {
			tb.Fatal(err)
		}
		p.f = f
	}
	return p
}

func (p *profile) resume() {
	if p.f != nil && !p.started {
		p.started = pprof.StartCPUProfile(p.f) == nil
	}
}

func (p *profile) stop() {
	if p.started {
		pprof.StopCPUProfile()
	}
	if p.f != nil {
		_ = p.f.Close()
	}
}
