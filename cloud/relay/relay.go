// Package relay turns decisions into rider notifications: it finds the
// order's rider, renders the merchant's text, delivers it through every
// configured channel independently, and remembers what was delivered so a
// redelivered decision is never sent twice. It knows nothing of NATS: the
// stores it needs are the small interfaces below, implemented by
// cloud/natsjs and by fakes in tests.
package relay

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"slices"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/wire"
)

// Action is what the consumer does with a decision's message.
type Action int

// Actions on a message.
const (
	Ack   Action = iota // done: delivered, duplicate, dropped or parked
	Retry               // NAK with backoff; dead-lettered after max deliveries
	Dead                // dead-letter now with the reason, then ack
)

// Outcome is the result of handling one decision.
type Outcome struct {
	Action Action
	Result string // delivered, duplicate, expired, waiting, eta_limited, limited, invalid, failed
	Err    error
}

// Relay handles decisions. Set every field before the first Handle; the
// optional ones are ETALimit (nil: no eta limit), Phraser, PhraseContext,
// Gate, AutoAssignRiders and Now.
type Relay struct {
	Marks       Marks
	Assignments Assignments
	Pending     Pending
	ETALimit    ETALimit
	Orders      OrderView
	Profiles    Profiles
	Templates   Renderer
	Fanout      *Fanout
	Phraser     cloud.Phraser // optional: rewrites the text of stores whose profile sets ModelText
	// PhraseContext, when set, tags the Phraser's context with the merchant
	// (phrase.WithMerchant), so budgets are per merchant.
	PhraseContext func(ctx context.Context, merchant string) context.Context
	Gate          Gate   // optional: per-merchant limits
	Locale        string // when neither assignment nor profile names one
	// AutoAssignRiders > 0 simulates the platform (demo only): an order
	// with no rider gets rider-{k}, k in 1..AutoAssignRiders from its id.
	AutoAssignRiders int
	PhraseTimeout    time.Duration
	// DedupeWindow is the DECISIONS stream's duplicate window; when set, a
	// first delivery stored well within it skips the mark read (firstSight).
	DedupeWindow time.Duration
	// Resends, when set, keeps every delivered ready until its rider acks
	// it and re-sends it once if they do not (see Resends).
	Resends Resends
	// Tracer, when set (OTLP on), makes a relay.consume span per decision
	// and, through Fanout.Tracer, a relay.deliver span per channel. Nil
	// costs nothing: the decision's traceparent header is passed on to
	// the channels as it came.
	Tracer  trace.Tracer
	Now     func() time.Time
	Log     *slog.Logger
	Metrics *Metrics
}

func (r *Relay) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Delivery is one delivery of a decision's message.
type Delivery struct {
	Raw      []byte
	Attempt  int       // 1 for the first delivery; 0 when unknown
	StoredAt time.Time // when the stream stored the message; zero when unknown
	// Decision, when set, is Raw already decoded (and valid), so it is not
	// decoded twice.
	Decision *wire.Decision
	// Released marks a decision that waited for its rider and was
	// published again (Pending.Release): its riderless channels may
	// already have it, so its mark is always read.
	Released bool
	// Traceparent is the message's traceparent header (the agent's
	// publish span); empty when it had none.
	Traceparent string
}

// Handle is HandleDelivery for a message whose delivery count is unknown.
func (r *Relay) Handle(ctx context.Context, raw []byte) Outcome {
	return r.HandleDelivery(ctx, Delivery{Raw: raw})
}

// HandleDelivery is HandleAsync, waiting for the outcome.
func (r *Relay) HandleDelivery(ctx context.Context, del Delivery) Outcome {
	out := make(chan Outcome, 1)
	r.HandleAsync(ctx, del, func(o Outcome) { out <- o })
	return <-out
}

// HandleAsync processes one decision and calls done once with what to do
// with its message. What needs no answer from a server (decode, rider,
// limits, text) happens before it returns; the deliveries are started and
// done runs when the last channel answers, possibly on a channel's
// goroutine, so done must not block. Decisions handed over one after the
// other reach an async channel in that order.
//
// A channel that records its own deliveries (the rider outbox) refuses a
// repeat itself. For the others the relay keeps a mark listing the
// channels delivered on, delivers only on channels the mark does not list,
// and saves the mark before done reports Ack.
func (r *Relay) HandleAsync(ctx context.Context, del Delivery, done func(Outcome)) {
	d, err := r.decode(del)
	if err != nil {
		done(r.done(Outcome{Action: Dead, Result: "invalid", Err: err}))
		return
	}
	if del.Traceparent != "" {
		d.Traceparent = del.Traceparent
	}
	if r.Tracer != nil {
		ctx, done = r.startConsume(ctx, &d, done)
	}
	if err := r.Orders.Update(ctx, d); err != nil {
		r.Log.Warn("order view update failed", "store", d.Store, "order", d.OrderID, "err", err)
	}
	if !r.now().Before(d.ExpiresAt) {
		done(r.done(Outcome{Action: Ack, Result: "expired"}))
		return
	}
	var mark Mark
	var rev uint64
	if r.Fanout.NeedsMarks() && !r.firstSight(d, del) {
		if mark, rev, err = r.Marks.Get(ctx, d.ID); err != nil {
			done(r.done(Outcome{Action: Retry, Result: "failed", Err: fmt.Errorf("read mark: %w", err)}))
			return
		}
	}
	if r.Fanout.Complete(mark.Channels) {
		done(r.done(Outcome{Action: Ack, Result: "duplicate"}))
		return
	}
	a, ok, err := r.assignment(ctx, d)
	if err != nil {
		done(r.done(Outcome{Action: Retry, Result: "failed", Err: err}))
		return
	}
	if !ok {
		r.withoutRider(ctx, d, del.Raw, mark, rev, func(o Outcome) { done(r.done(o)) })
		return
	}
	if out, stop := r.limit(ctx, d); stop {
		done(r.done(out))
		return
	}
	r.deliver(ctx, d, a, mark, rev, func(o Outcome) { done(r.done(o)) })
}

func (r *Relay) decode(del Delivery) (wire.Decision, error) {
	if del.Decision != nil {
		return *del.Decision, nil
	}
	return wire.DecodeDecision(del.Raw)
}

// firstSight reports whether the decision cannot have been delivered
// before, so its mark need not be read: this is the message's first
// delivery, and the stream stored it less than half of JetStream's
// duplicate window after the decision was made. Any earlier copy was then
// stored within the window of this one, and JetStream would have dropped
// this one. The other half of the window absorbs the store's clock skew:
// a store clock more than half the window ahead of the server's could let
// a replay through twice (1 h with the default 2 h window); a clock behind
// only costs the read.
func (r *Relay) firstSight(d wire.Decision, del Delivery) bool {
	if r.DedupeWindow <= 0 || del.Attempt != 1 || del.StoredAt.IsZero() || del.Released {
		return false
	}
	age := del.StoredAt.Sub(d.CreatedAt)
	return age > -time.Minute && age < r.DedupeWindow/2
}

func (r *Relay) done(o Outcome) Outcome {
	r.Metrics.decisions.WithLabelValues(o.Result).Inc()
	return o
}

func (r *Relay) assignment(ctx context.Context, d wire.Decision) (wire.Assignment, bool, error) {
	a, ok, err := r.Assignments.Get(ctx, d.Store, d.OrderID)
	if err != nil {
		return a, false, fmt.Errorf("read assignment: %w", err)
	}
	if ok || r.AutoAssignRiders <= 0 {
		return a, ok, nil
	}
	return AutoAssign(d, r.AutoAssignRiders, r.now()), true, nil
}

// AutoAssign picks rider-{k} for the order, k in 1..riders, the same k for
// the same order id. It simulates the delivery platform in the demo.
func AutoAssign(d wire.Decision, riders int, now time.Time) wire.Assignment {
	h := fnv.New32a()
	h.Write([]byte(d.Store + "/" + d.OrderID))
	k := int(h.Sum32()%uint32(riders)) + 1
	return wire.Assignment{Store: d.Store, OrderID: d.OrderID, Rider: fmt.Sprintf("rider-%d", k), At: now}
}

// withoutRider handles a decision whose order has no rider yet: the
// channels that need no rider (platforms, the customer) get it now, and
// once their results are in the mark the decision is parked for the
// others until the rider is assigned; the released copy reads the mark and
// skips them. A retryable failure on a riderless channel retries the
// whole decision without parking it. With no riderless channel left to
// deliver on, this is a plain park.
func (r *Relay) withoutRider(ctx context.Context, d wire.Decision, raw []byte, mark Mark, rev uint64, done func(Outcome)) {
	if !r.Fanout.Riderless(mark.Channels) {
		done(r.park(ctx, d, raw))
		return
	}
	if out, stop := r.limit(ctx, d); stop {
		done(out)
		return
	}
	n, err := r.Notification(ctx, d, wire.Assignment{})
	if err != nil {
		done(Outcome{Action: Dead, Result: "invalid", Err: err})
		return
	}
	skip := append(slices.Clone(mark.Channels), r.Fanout.RiderChannels()...)
	r.Fanout.DeliverAsync(ctx, n, d.CreatedAt, skip, func(results map[string]error) {
		// The mark and the park wait for the server: not on a channel's
		// goroutine.
		go func() {
			out := r.settleMarked(ctx, d, mark, rev, results)
			if out.Action != Ack {
				done(out)
				return
			}
			done(r.park(ctx, d, raw))
		}()
	})
}

func (r *Relay) park(ctx context.Context, d wire.Decision, raw []byte) Outcome {
	if err := r.Pending.Park(ctx, d, raw); err != nil {
		return Outcome{Action: Retry, Result: "failed", Err: fmt.Errorf("park: %w", err)}
	}
	// The assignment may have landed between our read and the park.
	if _, ok, err := r.Assignments.Get(ctx, d.Store, d.OrderID); err == nil && ok {
		if _, err := r.Pending.Release(ctx, d.Store, d.OrderID); err != nil {
			r.Log.Warn("release after park failed", "store", d.Store, "order", d.OrderID, "err", err)
		}
	}
	return Outcome{Action: Ack, Result: "waiting"}
}

func (r *Relay) limit(ctx context.Context, d wire.Decision) (Outcome, bool) {
	if d.Kind == wire.KindETA && r.ETALimit != nil {
		ok, err := r.ETALimit.AllowETA(ctx, d)
		if err != nil {
			return Outcome{Action: Retry, Result: "failed", Err: fmt.Errorf("eta limit: %w", err)}, true
		}
		if !ok {
			return Outcome{Action: Ack, Result: "eta_limited"}, true
		}
	}
	if r.Gate != nil && !d.Kind.Critical() {
		ok, err := r.Gate.Allow(ctx, r.merchant(d.Store), d)
		if err != nil {
			return Outcome{Action: Retry, Result: "failed", Err: fmt.Errorf("merchant limit: %w", err)}, true
		}
		if !ok {
			return Outcome{Action: Ack, Result: "limited"}, true
		}
	}
	return Outcome{}, false
}

func (r *Relay) merchant(store string) string {
	if m := r.Profiles.Profile(store).Merchant; m != "" {
		return m
	}
	return store
}

func (r *Relay) deliver(ctx context.Context, d wire.Decision, a wire.Assignment, mark Mark, rev uint64, done func(Outcome)) {
	n, err := r.Notification(ctx, d, a)
	if err != nil {
		done(Outcome{Action: Dead, Result: "invalid", Err: err})
		return
	}
	r.Fanout.DeliverAsync(ctx, n, d.CreatedAt, mark.Channels, func(results map[string]error) {
		if r.Log.Enabled(ctx, slog.LevelDebug) { // the arguments cost allocations even when the line is dropped
			r.Log.Debug("decision delivered", "decision_id", d.ID, "store", d.Store, "order_id", d.OrderID, "rider", a.Rider, "kind", d.Kind, "trace_id", d.TraceID)
		}
		finish := func() {
			if !r.Fanout.NeedsMarks() {
				done(settle(results, nil))
				return
			}
			done(r.settleMarked(ctx, d, mark, rev, results))
		}
		if !r.Fanout.NeedsMarks() && !r.needsResend(n, results) {
			finish()
			return
		}
		// Saving the mark and scheduling the re-send wait for the
		// server; done's caller may be a channel's ack goroutine, which
		// must not wait.
		go func() {
			if r.needsResend(n, results) {
				if err := r.Resends.Schedule(ctx, n); err != nil {
					done(Outcome{Action: Retry, Result: "failed", Err: fmt.Errorf("schedule ready re-send: %w", err)})
					return
				}
			}
			finish()
		}()
	})
}

// needsResend reports whether n is a ready the rider channel delivered
// now or before (a redelivered decision the outbox refused as a
// duplicate), to be handed to Resends before its decision is acked or
// marked. If Schedule fails, the decision is retried; its redelivery is a
// duplicate for the rider and schedules again, and Resends drops the
// repeat. Only readies, one per order, take this path.
func (r *Relay) needsResend(n wire.Notification, results map[string]error) bool {
	if r.Resends == nil || n.Kind != wire.KindReady {
		return false
	}
	err, tried := results[RiderChannelName]
	return tried && (err == nil || errors.Is(err, cloud.ErrDuplicate))
}

// settle turns the channels' results into the outcome; saveErr is the
// mark's save error, if any.
func settle(results map[string]error, saveErr error) Outcome {
	var retry error
	delivered := false
	for name, err := range results {
		switch {
		case err == nil:
			delivered = true
		case errors.Is(err, cloud.ErrDuplicate), errors.Is(err, cloud.ErrPermanent), errors.Is(err, cloud.ErrNotYet):
		default:
			retry = errors.Join(retry, fmt.Errorf("channel %s: %w", name, err))
		}
	}
	switch {
	case saveErr != nil:
		return Outcome{Action: Retry, Result: "failed", Err: fmt.Errorf("save mark: %w", saveErr)}
	case retry != nil:
		return Outcome{Action: Retry, Result: "failed", Err: retry}
	case !delivered && len(results) > 0 && allDuplicate(results):
		return Outcome{Action: Ack, Result: "duplicate"}
	}
	return Outcome{Action: Ack, Result: "delivered"}
}

func allDuplicate(results map[string]error) bool {
	for _, err := range results {
		if !errors.Is(err, cloud.ErrDuplicate) {
			return false
		}
	}
	return true
}

// settleMarked saves the mark with every channel now done, then settles.
func (r *Relay) settleMarked(ctx context.Context, d wire.Decision, mark Mark, rev uint64, results map[string]error) Outcome {
	for name, err := range results {
		if err == nil || errors.Is(err, cloud.ErrDuplicate) || errors.Is(err, cloud.ErrPermanent) {
			mark.Channels = append(mark.Channels, name)
		}
	}
	slices.Sort(mark.Channels)
	mark.At = r.now()
	return settle(results, r.Marks.Save(ctx, d.ID, mark, rev))
}

// Notification builds the rider notification for d: the text from the
// merchant's template, passed through the Phraser when one is set.
func (r *Relay) Notification(ctx context.Context, d wire.Decision, a wire.Assignment) (wire.Notification, error) {
	now := r.now()
	p := r.Profiles.Profile(d.Store)
	f := cloud.Facts{Kind: d.Kind, ShortCode: d.ShortCode, StoreName: p.Name, Shelf: p.Shelf, Tone: p.Tone,
		Locale: firstOf(a.Locale, p.Locale, r.Locale), Minutes: minutesUntil(d.ETA, now)}
	if f.StoreName == "" {
		f.StoreName = d.Store
	}
	text, _, err := r.Templates.Render(r.merchant(d.Store), f, d.OrderID)
	if err != nil {
		return wire.Notification{}, fmt.Errorf("render: %w", err)
	}
	if r.Phraser != nil && p.ModelText {
		pctx, cancel := context.WithTimeout(ctx, r.PhraseTimeout)
		if r.PhraseContext != nil {
			pctx = r.PhraseContext(pctx, r.merchant(d.Store))
		}
		text, _ = r.Phraser.Phrase(pctx, f, text)
		cancel()
	}
	return wire.Notification{
		ID: d.ID, Rider: a.Rider, Store: d.Store, StoreName: f.StoreName, OrderID: d.OrderID,
		ShortCode: d.ShortCode, Kind: d.Kind, EventID: d.EventID, Locale: f.Locale, Text: text, Minutes: f.Minutes,
		ETA: d.ETA, Shelf: f.Shelf, Flags: d.Flags, DecidedAt: d.CreatedAt, SentAt: now, Replayed: d.Replayed, TraceID: d.TraceID,
		Version:     d.Seq, // see wire.Notification.Version
		Traceparent: d.Traceparent,
	}, nil
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v == "zh-CN" || v == "en" {
			return v
		}
	}
	return "en"
}

func minutesUntil(eta *time.Time, now time.Time) *int {
	if eta == nil {
		return nil
	}
	m := int(math.Ceil(eta.Sub(now).Minutes()))
	if m < 0 {
		m = 0
	}
	return &m
}

// Assign stores an assignment and releases the decisions that waited for it.
func (r *Relay) Assign(ctx context.Context, a wire.Assignment) error {
	if err := a.Validate(); err != nil {
		return err
	}
	if err := r.Assignments.Put(ctx, a); err != nil {
		return fmt.Errorf("store assignment: %w", err)
	}
	r.Metrics.assignments.Inc()
	n, err := r.Pending.Release(ctx, a.Store, a.OrderID)
	if err != nil {
		return fmt.Errorf("release waiting decisions of %s/%s: %w", a.Store, a.OrderID, err)
	}
	r.Metrics.released.Add(float64(n))
	return nil
}
