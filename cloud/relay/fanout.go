package relay

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/wire"
)

// ErrBusy means a channel's queue was full: it is slow or hanging, and the
// delivery is retried later instead of waiting for it.
var ErrBusy = errors.New("channel busy")

// ErrTimeout means a channel did not answer within its timeout.
var ErrTimeout = errors.New("channel timed out")

// Fanout delivers a notification through every channel at once. Each
// channel has its own fixed set of workers and bounded queue, so a channel
// that fails or hangs costs the others nothing: its queue fills and further
// deliveries to it fail fast with ErrBusy.
type Fanout struct {
	lanes   []*lane
	async   []AsyncChannel
	names   []string
	marked  []string // channels that keep no record of their own
	rider   []string // channels that need the order's rider
	workers int
	timeout time.Duration
	metrics *Metrics
	// Tracer, when set, makes a relay.deliver span per channel; set it
	// before Start.
	Tracer trace.Tracer

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

type lane struct {
	ch      cloud.Channel
	jobs    chan job
	timeout time.Duration
}

type job struct {
	ctx     context.Context
	n       wire.Notification
	decided time.Time
	done    func(result)
}

type result struct {
	name string
	err  error
}

// NewFanout prepares channels with workers each and a per-attempt timeout:
// timeouts[name] for the channel of that name, or for a "webhook:x"
// channel timeouts["webhook"], else timeout. An AsyncChannel gets no
// workers: it keeps its deliveries in flight itself and bounds them with
// its own timeout. It starts nothing; call Start.
func NewFanout(channels []cloud.Channel, workers int, timeout time.Duration, timeouts map[string]time.Duration, m *Metrics) *Fanout {
	f := &Fanout{workers: workers, timeout: timeout, metrics: m}
	for _, c := range channels {
		f.names = append(f.names, c.Name())
		if r, ok := c.(RecordingChannel); !ok || !r.RecordsDeliveries() {
			f.marked = append(f.marked, c.Name())
		}
		if r, ok := c.(RiderlessChannel); !ok || r.NeedsRider() {
			f.rider = append(f.rider, c.Name())
		}
		if a, ok := c.(AsyncChannel); ok {
			f.async = append(f.async, a)
			continue
		}
		t := timeout
		if d, ok := timeouts[c.Name()]; ok {
			t = d
		} else if d, ok := timeouts[strings.SplitN(c.Name(), ":", 2)[0]]; ok {
			t = d
		}
		f.timeout = max(f.timeout, t)
		f.lanes = append(f.lanes, &lane{ch: c, jobs: make(chan job, workers), timeout: t})
	}
	return f
}

// Names lists the channels in order.
func (f *Fanout) Names() []string { return slices.Clone(f.names) }

// NeedsMarks reports whether some channel keeps no delivery record of its
// own, so the relay must keep marks.
func (f *Fanout) NeedsMarks() bool { return len(f.marked) > 0 }

// RiderChannels lists the channels that need the order's rider; the
// others (RiderlessChannel) take a decision before any rider is assigned.
func (f *Fanout) RiderChannels() []string { return slices.Clone(f.rider) }

// Riderless reports whether some channel needs no rider and is not named
// in done.
func (f *Fanout) Riderless(done []string) bool {
	for _, name := range f.names {
		if !slices.Contains(f.rider, name) && !slices.Contains(done, name) {
			return true
		}
	}
	return false
}

// Complete reports whether done names every channel.
func (f *Fanout) Complete(done []string) bool {
	for _, name := range f.names {
		if !slices.Contains(done, name) {
			return false
		}
	}
	return true
}

// Start starts the workers; they stop when ctx ends or Close is called.
func (f *Fanout) Start(ctx context.Context) {
	ctx, f.cancel = context.WithCancel(ctx)
	for _, l := range f.lanes {
		for range f.workers {
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				f.work(ctx, l)
			}()
		}
	}
}

// Close stops the workers after their current delivery.
func (f *Fanout) Close() {
	if f.cancel != nil {
		f.cancel()
	}
	f.wg.Wait()
}

func (f *Fanout) work(ctx context.Context, l *lane) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-l.jobs:
			j.done(result{name: l.ch.Name(), err: f.attempt(l, j)})
		}
	}
}

func (f *Fanout) attempt(l *lane, j job) error {
	c := l.ch
	ctx, cancel := context.WithTimeout(j.ctx, l.timeout)
	defer cancel()
	err := c.Deliver(ctx, j.n)
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("%w: %w", ErrTimeout, ctx.Err())
	}
	f.metrics.observe(c.Name(), err, j.decided)
	return err
}

// Deliver sends n on every channel not named in skip and returns each
// attempted channel's error (nil on success). It returns within the
// longest channel timeout plus a second, whatever the channels do.
func (f *Fanout) Deliver(ctx context.Context, n wire.Notification, decided time.Time, skip []string) map[string]error {
	done := make(chan map[string]error, 1)
	f.DeliverAsync(ctx, n, decided, skip, func(out map[string]error) { done <- out })
	return <-done
}

// DeliverAsync sends n on every channel not named in skip and calls done
// once with each attempted channel's error (nil on success): at once for a
// busy channel, when a plain channel's worker answers or, at the latest,
// the longest channel timeout plus a second later, and when an async
// channel reports. done may run on a channel's goroutine: it must not block.
func (f *Fanout) DeliverAsync(ctx context.Context, n wire.Notification, decided time.Time, skip []string, done func(map[string]error)) {
	j := &join{out: make(map[string]error, len(f.names)), left: 1, done: done}
	for _, a := range f.async {
		if name := a.Name(); !slices.Contains(skip, name) {
			j.expect(name)
			_, nc, sp := f.startDeliver(ctx, n, name)
			a.DeliverAsync(nc, func(err error) {
				f.metrics.observe(name, err, decided)
				endDeliver(sp, err)
				j.set(name, err)
			})
		}
	}
	lanes := false
	for _, l := range f.lanes {
		name := l.ch.Name()
		if slices.Contains(skip, name) {
			continue
		}
		j.expect(name)
		cc, nc, sp := f.startDeliver(ctx, n, name)
		select {
		case l.jobs <- job{ctx: cc, n: nc, decided: decided, done: func(r result) { endDeliver(sp, r.err); j.set(r.name, r.err) }}:
			lanes = true
		default:
			f.metrics.deliveries.WithLabelValues(name, "busy").Inc()
			endDeliver(sp, ErrBusy)
			j.set(name, ErrBusy)
		}
	}
	if lanes {
		j.timer = time.AfterFunc(f.timeout+time.Second, j.expire)
	}
	j.set("", nil) // the expectations are all in
}

// join collects the channels' results of one delivery.
type join struct {
	mu    sync.Mutex
	out   map[string]error
	left  int // results still due, plus one until every channel is started
	timer *time.Timer
	done  func(map[string]error)
}

func (j *join) expect(name string) {
	j.mu.Lock()
	j.out[name] = ErrTimeout
	j.left++
	j.mu.Unlock()
}

// set records one channel's result; name "" only counts down.
func (j *join) set(name string, err error) {
	j.mu.Lock()
	if j.left == 0 { // expired: a late answer changes nothing
		j.mu.Unlock()
		return
	}
	if name != "" {
		j.out[name] = err
	}
	j.left--
	finished := j.left == 0
	j.mu.Unlock()
	if finished {
		if j.timer != nil {
			j.timer.Stop()
		}
		j.done(j.out)
	}
}

// expire gives up on the channels that have not answered (ErrTimeout).
func (j *join) expire() {
	j.mu.Lock()
	if j.left == 0 {
		j.mu.Unlock()
		return
	}
	j.left = 0
	out := maps.Clone(j.out)
	j.mu.Unlock()
	j.done(out)
}
