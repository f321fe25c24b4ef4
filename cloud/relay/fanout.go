package relay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

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
	workers int
	timeout time.Duration
	metrics *Metrics

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
	done    chan<- result
}

type result struct {
	name string
	err  error
}

// NewFanout prepares channels with workers each and a per-attempt timeout:
// timeouts[name] for the channel of that name, or for a "webhook:x"
// channel timeouts["webhook"], else timeout. It starts nothing; call Start.
func NewFanout(channels []cloud.Channel, workers int, timeout time.Duration, timeouts map[string]time.Duration, m *Metrics) *Fanout {
	f := &Fanout{workers: workers, timeout: timeout, metrics: m}
	for _, c := range channels {
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
func (f *Fanout) Names() []string {
	names := make([]string, len(f.lanes))
	for i, l := range f.lanes {
		names[i] = l.ch.Name()
	}
	return names
}

// Complete reports whether done names every channel.
func (f *Fanout) Complete(done []string) bool {
	for _, l := range f.lanes {
		if !slices.Contains(done, l.ch.Name()) {
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
			j.done <- result{name: l.ch.Name(), err: f.attempt(l, j)}
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
	done := make(chan result, len(f.lanes))
	out := make(map[string]error, len(f.lanes))
	waiting := 0
	for _, l := range f.lanes {
		name := l.ch.Name()
		if slices.Contains(skip, name) {
			continue
		}
		select {
		case l.jobs <- job{ctx: ctx, n: n, decided: decided, done: done}:
			waiting++
			out[name] = ErrTimeout
		default:
			out[name] = ErrBusy
			f.metrics.deliveries.WithLabelValues(name, "busy").Inc()
		}
	}
	timer := time.NewTimer(f.timeout + time.Second)
	defer timer.Stop()
	for ; waiting > 0; waiting-- {
		select {
		case r := <-done:
			out[r.name] = r.err
		case <-timer.C:
			return out
		}
	}
	return out
}
