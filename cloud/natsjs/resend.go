package natsjs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/passline/passline/cloud/relay"
	"github.com/passline/passline/wire"
)

// The ready re-send's stream and consumer.
const (
	// StreamResend holds each delivered ready until it is due for its
	// re-send check (work queue: a message is gone once acked).
	StreamResend = "RIDER_RESEND"
	// SubjectResend is StreamResend's subjects: passline.resend.{store}.ready
	// (four tokens, so no store id overlaps passline.{store}.decision).
	SubjectResend = "passline.resend.*.ready"
	// DurableResend is the consumer every replica shares on StreamResend.
	DurableResend = "resend"
)

// ResendSubject is where a store's delivered readies wait.
func ResendSubject(store string) string { return "passline.resend." + store + ".ready" }

// resendStream keeps delivered readies a day at most; its Nats-Msg-Id
// window drops the schedule of a redelivered decision.
func resendStream(o Options) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name: StreamResend, Subjects: []string{SubjectResend}, Replicas: o.Replicas,
		Retention: jetstream.WorkQueuePolicy, Storage: jetstream.FileStorage, MaxAge: 24 * time.Hour,
		Duplicates:  10 * time.Minute,
		Description: "Readies delivered to riders, each waiting for its re-send check (relay.ready_resend).",
	}
}

// Resends re-sends, once, a ready its rider has not acknowledged within
// Delay. It implements relay.Resends.
//
// With the rider outbox (Outbox true) nothing is scheduled: the outbox
// already keeps every delivered ready with the time it was stored, and
// each replica sweeps it through a durable consumer per outbox partition
// (DurableResend on RIDER_OUTBOX and its partitions), shared by every
// replica, Delay behind: a message is held until due and then checked,
// so the pending re-sends are the outbox's own messages and survive any
// replica's restart (one that stops NAKs what it holds; one that dies
// leaves it to another after the consumer's ack wait, Delay plus a
// minute). Relaying a ready costs no write of its own.
//
// Without the outbox Schedule stores the delivered notification in
// RIDER_RESEND, consumed the same way through one shared durable consumer;
// one not yet due goes back with a delay (NakWithDelay). Start consumes
// RIDER_RESEND in both cases, so readies a relay of the older kind
// scheduled there are still checked.
//
// When due, the re-send is skipped if RiderAcks holds an ack of this
// version or a newer one; otherwise it is published to the rider outbox
// on a subject of its own (the decision id plus "/resend"), which refuses
// a second message. So the re-send goes out exactly once: a replica that
// crashes after publishing and before acking leaves the message to
// another, whose publish the outbox refuses. Without the outbox
// (relay.rider_outbox false) such a crash can repeat it.
type Resends struct {
	JS jetstream.JetStream
	// NC publishes straight to the rider subject when Outbox is false.
	NC         *nats.Conn
	Acks       RiderAcks
	Delay      time.Duration
	Outbox     bool
	Partitions int
	Log        *slog.Logger
	Metrics    *ResendMetrics
	Now        func() time.Time

	mu     sync.Mutex
	cc     jetstream.ConsumeContext
	cancel context.CancelFunc
	wg     sync.WaitGroup
	due    chan jetstream.Msg
}

var _ relay.Resends = (*Resends)(nil)

func (r *Resends) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Schedule implements relay.Resends: it stores n in RIDER_RESEND, once
// per decision id within the stream's duplicate window. With the outbox
// it does nothing (the sweep finds n there): the relay need not call it.
func (r *Resends) Schedule(ctx context.Context, n wire.Notification) error {
	if r.Outbox {
		return nil
	}
	b, err := n.Marshal()
	if err != nil {
		return err
	}
	m := nats.NewMsg(ResendSubject(n.Store))
	m.Data = b
	m.Header.Set(nats.MsgIdHdr, "resend."+n.ID)
	if _, err := r.JS.PublishMsg(ctx, m); err != nil {
		return fmt.Errorf("publish %s: %w", m.Subject, err)
	}
	return nil
}

// Start creates the shared consumers and handles due readies until ctx
// ends or Close is called.
func (r *Resends) Start(ctx context.Context) error {
	if r.Outbox {
		sctx, cancel := context.WithCancel(ctx)
		r.mu.Lock()
		r.cancel = cancel
		r.mu.Unlock()
		r.startSweeps(sctx)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cons, err := r.JS.CreateOrUpdateConsumer(cctx, StreamResend, jetstream.ConsumerConfig{
		Durable: DurableResend, AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
		// Every message is NAKed with a delay until due: no delivery cap.
		MaxDeliver: -1, AckWait: 30 * time.Second, MaxAckPending: 1 << 16,
	})
	if err != nil {
		return fmt.Errorf("create consumer %s on %s: %w", DurableResend, StreamResend, err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) { r.handle(ctx, m) },
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) { r.Log.Warn("consume ready re-sends", "err", err) }))
	if err != nil {
		return fmt.Errorf("consume %s: %w", StreamResend, err)
	}
	r.mu.Lock()
	r.cc = cc
	r.mu.Unlock()
	return nil
}

// Close stops consuming; messages in hand are redelivered to a replica
// (the sweeps' held messages at once: they are NAKed).
func (r *Resends) Close() {
	r.mu.Lock()
	if r.cc != nil {
		r.cc.Stop()
		r.cc = nil
	}
	cancel := r.cancel
	r.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	r.wg.Wait()
	for {
		select {
		case m := <-r.due:
			_ = m.Nak()
		default:
			return
		}
	}
}

// handle settles one waiting ready: back with a delay until due, then
// acked after the re-send, or at once when the rider acknowledged it.
func (r *Resends) handle(ctx context.Context, m jetstream.Msg) {
	n, err := wire.DecodeNotification(m.Data())
	if err != nil {
		r.Log.Warn("dropping an undecodable ready re-send", "err", err)
		r.Metrics.count("invalid")
		_ = m.Term()
		return
	}
	meta, err := m.Metadata()
	if err != nil {
		_ = m.NakWithDelay(time.Second)
		return
	}
	if wait := meta.Timestamp.Add(r.Delay).Sub(r.now()); wait > 0 {
		_ = m.NakWithDelay(wait)
		return
	}
	r.settle(ctx, m, n)
}

// settle re-sends the due ready n that m carries, unless its rider
// acknowledged it, and acks m; a failed re-send is tried again in 5 s.
func (r *Resends) settle(ctx context.Context, m jetstream.Msg, n wire.Notification) {
	result, err := r.resend(ctx, n)
	if err != nil {
		r.Log.Warn("ready re-send failed; retrying", "store", n.Store, "order", n.OrderID, "err", err)
		r.Metrics.count("failed")
		_ = m.NakWithDelay(5 * time.Second)
		return
	}
	r.Metrics.count(result)
	_ = m.Ack()
}

// resend sends n again unless its rider acknowledged it; it returns
// "acked", "resent" or "duplicate" (sent before, by this or another
// replica).
func (r *Resends) resend(ctx context.Context, n wire.Notification) (string, error) {
	ack, ok, err := r.Acks.Get(ctx, n.Store, n.OrderID)
	if err != nil {
		return "", fmt.Errorf("read rider ack: %w", err)
	}
	if ok && ack.Rider == n.Rider && !ack.AckedAt.IsZero() && ack.Version >= n.Version {
		return "acked", nil
	}
	n.Resent, n.SentAt = true, r.now()
	b, err := n.Marshal()
	if err != nil {
		return "", err
	}
	if !r.Outbox {
		msg := nats.NewMsg(wire.RiderSubject(n.Rider, idKey(n.ID+"/resend")))
		msg.Data = b
		if err := r.NC.PublishMsg(msg); err != nil {
			return "", fmt.Errorf("publish %s: %w", msg.Subject, err)
		}
		return "resent", r.NC.Flush()
	}
	msg := nats.NewMsg(OutboxSubject(OutboxPartition(n.Rider, max(r.Partitions, 1)), n.Rider, n.ID+"/resend"))
	msg.Data = b
	if n.Traceparent != "" {
		msg.Header.Set(wire.HeaderTraceparent, n.Traceparent)
	}
	ack2, err := r.JS.PublishMsg(ctx, msg)
	switch {
	case refusedRepeat(err), err == nil && ack2.Duplicate:
		return "duplicate", nil
	case err != nil:
		return "", fmt.Errorf("publish %s: %w", msg.Subject, err)
	}
	return "resent", nil
}

// ResendMetrics counts ready re-send checks by result: resent, acked
// (the rider had acknowledged it), duplicate (already re-sent), failed
// (retried), invalid.
type ResendMetrics struct{ results *prometheus.CounterVec }

// NewResendMetrics registers the counters with reg.
func NewResendMetrics(reg prometheus.Registerer) *ResendMetrics {
	m := &ResendMetrics{results: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "passline_relay_ready_resends_total", Help: "Ready re-send checks by result: resent, acked, duplicate, failed, invalid.",
	}, []string{"result"})}
	// Every result is exported from the start, at 0, so a rate or an
	// alert on one has a series before the first re-send check.
	for _, r := range []string{"resent", "acked", "duplicate", "failed", "invalid"} {
		m.results.WithLabelValues(r)
	}
	reg.MustRegister(m.results)
	return m
}

func (m *ResendMetrics) count(result string) {
	if m != nil {
		m.results.WithLabelValues(result).Inc()
	}
}
