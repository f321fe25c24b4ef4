// Package relaytest helps tests start a relay and feed it decisions: an
// embedded-NATS app.Main on random ports, decision builders, and a rider
// subscription that counts what arrives.
package relaytest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/passline/passline/cloud/app"
	"github.com/passline/passline/cloud/config"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/quota"
	"github.com/passline/passline/wire"
)

// Config is a config for an embedded-NATS relay in dir on random ports,
// with short waits suited to tests.
func Config(dir string) config.Config {
	c := config.DefaultConfig()
	c.NATS.Embedded = config.Embedded{Enabled: true, Listen: "127.0.0.1:0"}
	c.DataDir = dir
	c.HTTP.Listen = "127.0.0.1:0"
	c.Stream.DuplicateWindow = time.Minute
	c.Stream.MaxAge = time.Hour
	c.Consumer.AckWait = 2 * time.Second
	c.Consumer.Backoff = []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}
	c.Relay.ChannelTimeout = 500 * time.Millisecond
	c.Relay.Workers = 16
	c.Relay.ChannelWorkers = 16
	// No ready re-sends unless a test asks for them: the benches built on
	// this config measure the decision path, and tests count rider
	// messages per decision.
	c.Relay.ReadyResend = 0
	c.LogLevel = "warn"
	c.Auth.InsecureDev = true                              // tests of the relay use the unauthenticated API
	c.Limits.Tiers = map[string]quota.Tier{"standard": {}} // no tier limit unless a test sets one
	return c
}

// Logger logs warnings and errors to the test log until the test's
// cleanup ends (late log lines from closing connections are dropped).
func Logger(tb testing.TB) *slog.Logger {
	w := &testWriter{tb: tb}
	tb.Cleanup(func() { w.done.Store(true) })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct {
	tb   testing.TB
	done atomic.Bool
}

func (w *testWriter) Write(p []byte) (int, error) {
	if !w.done.Load() {
		w.tb.Log(string(p))
	}
	return len(p), nil
}

// Discard is a logger that drops everything.
var Discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// MustRun starts a Main with cfg and closes it in cleanup.
func MustRun(tb testing.TB, cfg config.Config) *app.Main {
	tb.Helper()
	return MustRunWith(tb, cfg, nil)
}

// Connect connects to url and closes the connection in cleanup.
func Connect(tb testing.TB, url string) (*nats.Conn, jetstream.JetStream) {
	tb.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond))
	if err != nil {
		tb.Fatalf("connect %s: %v", url, err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	return nc, js
}

// SkipIfServerTooOld skips tb when the nats-server at url is older than the
// relay needs (natsjs.MinServer), saying which version it found: a real
// server on a test machine may be an older distribution package.
func SkipIfServerTooOld(tb testing.TB, url string) {
	tb.Helper()
	if err := ServerTooOld(tb, url); err != nil {
		tb.Skipf("skipping the relay on the real nats-server: %v", err)
	}
}

// ServerTooOld is natsjs.CheckServer's answer for the nats-server at url:
// nil when the relay runs on it, an error wrapping natsjs.ErrServerTooOld
// naming the version found otherwise.
func ServerTooOld(tb testing.TB, url string) error {
	tb.Helper()
	nc, _ := Connect(tb, url)
	return natsjs.CheckServer(nc, 1)
}

// Decision is a valid decision of kind for store/order, created now,
// expiring in an hour.
func Decision(id, store, order string, kind wire.DecisionKind) wire.Decision {
	now := time.Now().UTC()
	d := wire.Decision{ID: id, Store: store, OrderID: order, ShortCode: "#" + order, Kind: kind,
		CreatedAt: now, ExpiresAt: now.Add(time.Hour), TraceID: "trace-" + id}
	if kind == wire.KindReady {
		d.EventID = "ev-" + id
	} else {
		eta := now.Add(4 * time.Minute)
		d.ETA, d.Probability = &eta, 0.9
	}
	return d
}

// Publish publishes d to DECISIONS with its id as Nats-Msg-Id, as the agent does.
func Publish(ctx context.Context, js jetstream.JetStream, d wire.Decision) error {
	b, err := d.Marshal()
	if err != nil {
		return err
	}
	msg := nats.NewMsg(wire.DecisionSubject(d.Store))
	msg.Data = b
	msg.Header.Set(wire.HeaderMsgID, d.ID)
	_, err = js.PublishMsg(ctx, msg)
	return err
}

// Assign assigns rider to store/order over NATS request-reply.
func Assign(nc *nats.Conn, store, order, rider string) error {
	b, err := wire.Assignment{Store: store, OrderID: order, Rider: rider, Locale: "en", At: time.Now()}.Marshal()
	if err != nil {
		return err
	}
	reply, err := nc.Request(wire.AssignSubject(store), b, 10*time.Second)
	if err != nil {
		return err
	}
	if string(reply.Data) != "ok" {
		return fmt.Errorf("assign: %s", reply.Data)
	}
	return nil
}

// Riders records every rider notification received on a connection.
type Riders struct {
	mu    sync.Mutex
	byID  map[string]int
	all   []wire.Notification
	bad   int
	total int
}

// Subscribe records notifications for every rider.
func Subscribe(tb testing.TB, nc *nats.Conn) *Riders {
	tb.Helper()
	r := &Riders{byID: map[string]int{}}
	sub, err := nc.Subscribe(wire.RiderWildcard, func(m *nats.Msg) {
		n, err := wire.DecodeNotification(m.Data)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.total++
		if err != nil {
			r.bad++
			return
		}
		r.byID[n.ID]++
		r.all = append(r.all, n)
	})
	if err != nil {
		tb.Fatal(err)
	}
	sub.SetPendingLimits(-1, -1)
	if err := nc.Flush(); err != nil {
		tb.Fatal(err)
	}
	return r
}

// Counts returns distinct ids, total messages, duplicates and unreadable ones.
func (r *Riders) Counts() (distinct, total, dups, bad int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.byID {
		if n > 1 {
			dups += n - 1
		}
	}
	return len(r.byID), r.total, dups, r.bad
}

// Get returns the notifications received for decision id.
func (r *Riders) Get(id string) []wire.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []wire.Notification
	for _, n := range r.all {
		if n.ID == id {
			out = append(out, n)
		}
	}
	return out
}

// WaitFor polls cond until it holds or timeout passes.
func WaitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return cond()
}

// Metric returns the summed value of every sample of the named counter or
// gauge whose labels include want.
func Metric(tb testing.TB, g prometheus.Gatherer, name string, want map[string]string) float64 {
	tb.Helper()
	mfs, err := g.Gather()
	if err != nil {
		tb.Fatal(err)
	}
	sum := 0.0
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if !hasLabels(m.GetLabel(), want) {
				continue
			}
			switch {
			case m.Counter != nil:
				sum += m.Counter.GetValue()
			case m.Gauge != nil:
				sum += m.Gauge.GetValue()
			case m.Histogram != nil:
				sum += float64(m.Histogram.GetSampleCount())
			}
		}
	}
	return sum
}

func hasLabels(have []*dto.LabelPair, want map[string]string) bool {
	n := 0
	for _, l := range have {
		if v, ok := want[l.GetName()]; ok && v == l.GetValue() {
			n++
		}
	}
	return n == len(want)
}

// MustRunWith is MustRun with a hook to set Main's fields before Run.
func MustRunWith(tb testing.TB, cfg config.Config, set func(*app.Main)) *app.Main {
	tb.Helper()
	m := app.NewMain()
	m.Config = cfg
	m.Logger = Logger(tb)
	if set != nil {
		set(m)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		tb.Fatalf("run relay: %v", err)
	}
	tb.Cleanup(func() { _ = m.Close() })
	return m
}
