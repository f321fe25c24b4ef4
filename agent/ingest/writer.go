// Package ingest is the agent's single writer: it takes device events from
// a bounded channel, applies them to the kitchen state machine, asks the
// Decider what to tell riders, and commits all of it — orders, history,
// outbox, rejects, applied event ids — to bbolt in one transaction per
// batch. Only after the commit does it acknowledge the MQTT messages, so a
// crash at any moment loses nothing the broker considers delivered.
package ingest

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/passline/passline/internal/tracing"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/bolt"
	"github.com/passline/passline/wire"
)

// Writer owns all bbolt writes caused by events and timer ticks.
type Writer struct {
	DB      *bolt.DB
	Store   string
	Decider agent.Decider
	// AutoStart marks orders started on accept.
	AutoStart bool
	// RecallWindow is how long after a bump a recall may reopen the order
	// (agent.Kitchen.RecallWindow); zero means no limit.
	RecallWindow time.Duration
	// MaxBatch bounds the events committed in one transaction.
	MaxBatch int
	// Tick is how often open orders are re-evaluated and expired (Params.RetryInterval).
	Tick                   time.Duration
	FinishedTTL, OrphanTTL time.Duration
	// StaleAfter is the stale horizon: an event stamped longer ago than
	// this when it arrives (a device's backlog, a replay, a wrong clock)
	// is applied and remembered but tells no rider anything, and an order
	// it creates never does (Order.Stale). Zero means never stale.
	StaleAfter time.Duration
	// RemoveLinger is how long outbox removals queued by Remove wait to
	// ride on an event's transaction before they are committed on their
	// own; RemoveMax queued removals are committed at once. Longer saves
	// fsyncs on a quiet store; the cost is published decisions staying in
	// the outbox (and resent after a crash) that much longer.
	RemoveLinger time.Duration
	RemoveMax    int
	// Notify is called after a commit that added outbox entries; it must not block.
	Notify func()
	// Observe, if set, is called after each commit with the number of events
	// and each input's receive time (for latency metrics).
	Observe func(n int, received []time.Time)
	// Tracer makes the agent.ingest and agent.decide spans; NewWriter
	// sets tracing.Off's.
	Tracer trace.Tracer
	Now    func() time.Time
	Log    *slog.Logger

	in        chan agent.Input
	stop      <-chan struct{} // closed when the writer stops
	k         *agent.Kitchen
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	committed atomic.Int64
	failures  atomic.Int64
	stale     atomic.Int64
	panics    atomic.Int64
	lastErr   atomic.Value // string
	rejectLog *limiter
	rmMu      sync.Mutex
	rm        []agent.Removal
	rmSince   time.Time // when rm became non-empty
	stopped   atomic.Bool
	tickc     chan time.Duration // SetTick's new periods
}

// NewWriter returns a writer whose input queue holds queue items. It starts
// nothing; call Run.
func NewWriter(db *bolt.DB, store string, queue int) *Writer {
	return &Writer{DB: db, Store: store, MaxBatch: 512, Tick: 30 * time.Second,
		FinishedTTL: 3 * time.Hour, OrphanTTL: time.Hour, StaleAfter: 5 * time.Minute, Decider: agent.BasicDecider{},
		RemoveLinger: time.Second, RemoveMax: 1024, tickc: make(chan time.Duration, 1),
		Tracer: tracing.Off().Tracer(tracerName), Now: time.Now, Log: slog.Default(), in: make(chan agent.Input, queue), rejectLog: newLimiter(10 * time.Second)}
}

// Offer hands an input to the writer without blocking. It reports false
// when the queue is full; the caller must then leave the message unacked.
func (w *Writer) Offer(in agent.Input) bool {
	select {
	case w.in <- in:
		return true
	default:
		return false
	}
}

// OfferWait hands an input to the writer, waiting up to d for room. The
// writer drains the queue on its own goroutine, so the wait is bounded by
// commit speed and cannot deadlock the caller.
func (w *Writer) OfferWait(in agent.Input, d time.Duration) bool {
	if w.Offer(in) {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case w.in <- in:
		return true
	case <-t.C:
		return false
	}
}

// ErrStopped is returned by Ingest when the writer stops before the input
// was committed.
var ErrStopped = errors.New("ingest writer stopped")

// Ingest hands in to the writer and returns once it is committed (applied,
// rejected or found a duplicate), so a caller may acknowledge it to its
// sender: what Ingest accepted survives a crash. It waits for queue room
// as long as it takes, pushing back on the caller; in.Ack is replaced. It
// returns ctx's error, or ErrStopped when the writer stops first; the
// input may then still be committed, or not.
func (w *Writer) Ingest(ctx context.Context, in agent.Input) error {
	done := make(chan struct{})
	in.Ack = func() { close(done) }
	select {
	case w.in <- in:
	case <-ctx.Done():
		return ctx.Err()
	case <-w.stop:
		return ErrStopped
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-w.stop:
		return ErrStopped
	}
}

// QueueLen is the number of inputs waiting.
func (w *Writer) QueueLen() int { return len(w.in) }

// Committed is the number of inputs committed (applied, rejected or duplicate).
func (w *Writer) Committed() int64 { return w.committed.Load() }

// LastError is the last commit error, "" after a successful commit.
func (w *Writer) LastError() string {
	s, _ := w.lastErr.Load().(string)
	return s
}

// DeciderPanics counts Decide calls that panicked.
func (w *Writer) DeciderPanics() int64 { return w.panics.Load() }

// CommitFailures counts failed commits (full disk, write errors).
func (w *Writer) CommitFailures() int64 { return w.failures.Load() }

// setKitchen makes k, loaded from the db, the writer's kitchen, with the
// writer's settings.
func (w *Writer) setKitchen(k *agent.Kitchen) {
	k.AutoStart, k.RecallWindow = w.AutoStart, w.RecallWindow
	w.k = k
}

// Run loads the kitchen from the db and starts the writer goroutine.
func (w *Writer) Run(ctx context.Context) error {
	k, err := w.DB.LoadKitchen(w.Store)
	if err != nil {
		return err
	}
	w.setKitchen(k)
	w.lastErr.Store("")
	ctx, w.cancel = context.WithCancel(ctx)
	w.stop = ctx.Done()
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		w.loop(ctx)
	}()
	return nil
}

// Close stops the writer after the batch in progress and applies queued
// outbox removals. Inputs still queued are not acked, so the broker
// redelivers them to the next run.
func (w *Writer) Close() {
	if w.cancel != nil {
		w.cancel()
	}
	w.wg.Wait()
	w.rmMu.Lock()
	w.stopped.Store(true)
	w.rmMu.Unlock()
	if err := w.flushRemovals(); err != nil {
		w.Log.Error("remove published decisions on close", "err", err)
	}
}

func (w *Writer) loop(ctx context.Context) {
	tick := time.NewTicker(w.Tick)
	defer tick.Stop()
	idle := time.NewTicker(250 * time.Millisecond)
	defer idle.Stop()
	batch := make([]agent.Input, 0, w.MaxBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			w.retry(ctx, func() error { return w.tick() })
			continue
		case d := <-w.tickc:
			tick.Reset(d)
			continue
		case <-idle.C:
			w.retry(ctx, w.flushDue)
			continue
		case in := <-w.in:
			batch = append(batch[:0], in)
		}
	fill:
		for len(batch) < w.MaxBatch {
			select {
			case in := <-w.in:
				batch = append(batch, in)
			default:
				break fill
			}
		}
		w.process(ctx, batch)
	}
}

// retry runs fn until it succeeds or ctx ends, backing off from 100 ms to
// 10 s. After a failure the kitchen is reloaded from the db, so memory never
// holds what was not committed. It reports whether fn succeeded.
func (w *Writer) retry(ctx context.Context, fn func() error) bool {
	backoff := 100 * time.Millisecond
	for {
		err := fn()
		if err == nil {
			w.lastErr.Store("")
			return true
		}
		w.failures.Add(1)
		w.lastErr.Store(err.Error())
		w.Log.Error("state db commit failed; events stay unacked and will be retried", "err", err, "retry_in", backoff)
		if k, lerr := w.DB.LoadKitchen(w.Store); lerr == nil {
			w.setKitchen(k)
		} else {
			w.Log.Error("reload kitchen after failed commit", "err", lerr)
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// process decodes a batch, commits it, then acks every message in it.
func (w *Writer) process(ctx context.Context, batch []agent.Input) {
	items := make([]item, len(batch))
	for i, in := range batch {
		items[i] = decodeInput(in)
	}
	spans := w.startIngest(items)
	var added int
	ok := w.retry(ctx, func() error {
		var err error
		added, err = w.commit(items)
		return err
	})
	endSpans(spans, ok)
	if !ok {
		return
	}
	received := make([]time.Time, len(batch))
	for i, in := range batch {
		if in.Ack != nil {
			in.Ack()
		}
		received[i] = in.Received
	}
	w.committed.Add(int64(len(batch)))
	for _, it := range items {
		for _, r := range []*agent.Reject{it.reject, it.refused} {
			if r != nil {
				w.rejectLog.log(w.Log, r.Reason, r.Detail)
			}
		}
	}
	if added > 0 && w.Notify != nil {
		w.Notify()
	}
	if w.Observe != nil {
		w.Observe(len(batch), received)
	}
}

// item is a decoded input: an event to apply or a reject to keep.
type item struct {
	ev      *wire.Event
	reject  *agent.Reject // refused by the decoder
	refused *agent.Reject // refused by the state machine, set by commit
}

func decodeInput(in agent.Input) item {
	if in.Event != nil {
		return item{ev: in.Event}
	}
	_, ev, err := wire.DecodeEventOn(in.Topic, in.Payload)
	if err != nil {
		raw := append([]byte(nil), in.Payload[:min(len(in.Payload), agent.MaxRejectRaw)]...)
		return item{reject: &agent.Reject{Reason: string(wire.ReasonOf(err)), Detail: err.Error(), Topic: in.Topic, Raw: raw}}
	}
	return item{ev: &ev}
}

// Stale counts events older than StaleAfter when they arrived.
func (w *Writer) Stale() int64 { return w.stale.Load() }
