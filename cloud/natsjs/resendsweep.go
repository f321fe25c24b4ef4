package natsjs

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/wire"
)

// The outbox sweep: with the rider outbox, a delivered ready needs no
// schedule of its own. The outbox already stores every notification, in
// the order it was delivered, with the server's timestamp; a durable
// consumer (DurableResend) on each outbox partition reads it Delay behind
// and checks each ready as it falls due. Delivering a decision costs
// nothing more, the check costs a delivery, a rider-ack read and an ack,
// later, and a re-send is refused by the outbox when another replica made
// it already (see Resends).
const (
	// sweepBatch is how many outbox messages a replica holds per
	// partition while they wait to fall due.
	sweepBatch = 256
	// sweepWorkers check due readies at once, per replica.
	sweepWorkers = 16
	// sweepIdle is how long a sweep waits when the outbox has nothing new.
	sweepIdle = time.Second
	// sweepMinWait groups the waits: due messages are handed over at most
	// this often, not one timer per message.
	sweepMinWait = 100 * time.Millisecond
	// resendMaxAge: a ready older than this when checked (every relay was
	// down for a day) is not re-sent; RIDER_RESEND kept them as long.
	resendMaxAge = 24 * time.Hour
)

// readyKind is how a ready's kind reads in its JSON: a cheap test before
// decoding (a string value cannot hold it unescaped).
var readyKind = []byte(`"kind":"` + string(wire.KindReady) + `"`)

// sweepConsumer returns the outbox partition's sweep consumer, creating it
// to start Delay before now (readies delivered earlier than that are
// due already, and those of a relay that predates the sweep wait in
// RIDER_RESEND, which Start still drains). Its ack wait outlasts Delay: a
// message is held until due.
func (r *Resends) sweepConsumer(ctx context.Context, stream string) (jetstream.Consumer, error) {
	ackWait := r.Delay + time.Minute
	c, err := r.JS.Consumer(ctx, stream, DurableResend)
	if err == nil {
		cfg := c.CachedInfo().Config
		if cfg.AckWait == ackWait {
			return c, nil
		}
		cfg.AckWait = ackWait
		return r.JS.UpdateConsumer(ctx, stream, cfg)
	}
	if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, err
	}
	start := r.now().Add(-r.Delay)
	c, err = r.JS.CreateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable: DurableResend, AckPolicy: jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverByStartTimePolicy, OptStartTime: &start,
		MaxDeliver: -1, AckWait: ackWait, MaxAckPending: 1 << 16,
		Description: "Readies in the rider outbox, each checked for its rider's ack once relay.ready_resend has passed.",
	})
	if errors.Is(err, jetstream.ErrConsumerExists) {
		return r.JS.Consumer(ctx, stream, DurableResend)
	}
	return c, err
}

// sweep reads stream Delay behind and hands each message to due once it
// falls due, until ctx ends; messages it holds then are NAKed for another
// replica.
func (r *Resends) sweep(ctx context.Context, stream string, due chan<- jetstream.Msg) {
	var cons jetstream.Consumer
	for ctx.Err() == nil {
		if cons == nil {
			c, err := r.sweepConsumer(ctx, stream)
			if err != nil {
				r.Log.Warn("ready re-send sweep consumer; retrying", "stream", stream, "err", err)
				sleep(ctx, sweepIdle)
				continue
			}
			cons = c
		}
		batch, err := cons.FetchNoWait(sweepBatch)
		if err != nil {
			r.Log.Warn("ready re-send sweep fetch; retrying", "stream", stream, "err", err)
			cons = nil
			sleep(ctx, sweepIdle)
			continue
		}
		got := 0
		for m := range batch.Messages() {
			got++
			if !r.hold(ctx, m, due) {
				_ = m.Nak()
			}
		}
		if err := batch.Error(); err != nil && ctx.Err() == nil {
			r.Log.Warn("ready re-send sweep fetch; retrying", "stream", stream, "err", err)
			cons = nil
		}
		if got == 0 {
			sleep(ctx, sweepIdle)
		}
	}
}

// hold waits until m is due and hands it to due; false when ctx ended
// first.
func (r *Resends) hold(ctx context.Context, m jetstream.Msg, due chan<- jetstream.Msg) bool {
	if meta, err := m.Metadata(); err == nil {
		if wait := meta.Timestamp.Add(r.Delay).Sub(r.now()); wait > 0 && !sleep(ctx, max(wait, sweepMinWait)) {
			return false
		}
	}
	select {
	case due <- m:
		return true
	case <-ctx.Done():
		return false
	}
}

// checkDue settles one due outbox message: anything but a first ready is
// acked as it is; a ready is re-sent unless its rider acknowledged it.
func (r *Resends) checkDue(ctx context.Context, m jetstream.Msg) {
	if !bytes.Contains(m.Data(), readyKind) {
		_ = m.Ack()
		return
	}
	n, err := wire.DecodeNotification(m.Data())
	if err != nil || n.Kind != wire.KindReady || n.Resent {
		_ = m.Ack() // not a first ready (or not ours to judge: the outbox took it)
		return
	}
	if meta, err := m.Metadata(); err == nil && r.now().Sub(meta.Timestamp) > resendMaxAge {
		_ = m.Ack()
		return
	}
	r.settle(ctx, m, n)
}

// startSweeps starts a sweep of every outbox partition and the workers
// that check what falls due.
func (r *Resends) startSweeps(ctx context.Context) {
	due := make(chan jetstream.Msg, sweepWorkers)
	for p := range max(r.Partitions, 1) {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.sweep(ctx, OutboxStream(p), due)
		}()
	}
	for range sweepWorkers {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			for {
				select {
				case m := <-due:
					r.checkDue(ctx, m)
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	r.due = due
}

// sleep waits d or until ctx ends; false when ctx ended.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
