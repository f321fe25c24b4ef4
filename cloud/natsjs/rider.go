package natsjs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/wire"
)

// RiderChannel delivers a notification on wire.RiderSubject(rider, key),
// key a token made from the decision id.
//
// With the outbox (the default in the app) it publishes to the rider's
// outbox partition (OutboxPartition), on a subject of its own per decision
// id (OutboxSubject), and reports the delivery once the server acks it;
// the stream republishes the stored message to the rider subject. The stream
// keeps one message per subject and refuses a second (discard new per
// subject) for as long as it keeps the first, IdempotencyTTL: the stored
// notification is the relay's idempotency mark, and a repeat, whoever
// sends it and however late, is refused and reported as cloud.ErrDuplicate.
// One stored write per delivered decision, and no mark to read first.
//
// Without the outbox it publishes straight to the rider subject and
// flushes: nothing is recorded, so the relay keeps marks for it.
//
// A notification goes out on the connection its order hashes to, so one
// order's notifications leave in the order they were handed over.
type RiderChannel struct {
	outbox  bool
	parts   int
	conns   []*nats.Conn
	jss     []jetstream.JetStream
	mu      sync.Mutex
	waiting map[*nats.Msg]func(error) // until the server answers
}

var _ interface {
	cloud.Channel
	DeliverAsync(wire.Notification, func(error))
	RecordsDeliveries() bool
} = (*RiderChannel)(nil)

// NewRiderChannel prepares the channel on conns. Publishes in flight per
// connection are capped at window (a publish past it waits, then fails);
// one not answered within timeout fails and is retried by the relay.
// partitions is the stores' partition count, which picks the outbox.
func NewRiderChannel(conns []*nats.Conn, outbox bool, partitions, window int, timeout time.Duration) (*RiderChannel, error) {
	c := &RiderChannel{outbox: outbox, parts: max(partitions, 1), conns: conns, waiting: make(map[*nats.Msg]func(error), window)}
	for _, nc := range conns {
		js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(window), jetstream.WithPublishAsyncTimeout(timeout),
			jetstream.WithPublishAsyncAckHandler(c.acked), jetstream.WithPublishAsyncErrHandler(c.failed))
		if err != nil {
			return nil, fmt.Errorf("rider channel jetstream: %w", err)
		}
		c.jss = append(c.jss, js)
	}
	return c, nil
}

// Name implements cloud.Channel.
func (*RiderChannel) Name() string { return "rider" }

// RecordsDeliveries reports whether the channel keeps its own delivery
// record (the outbox), so the relay needs no mark for it.
func (c *RiderChannel) RecordsDeliveries() bool { return c.outbox }

// Deliver implements cloud.Channel: DeliverAsync, waiting for the answer.
func (c *RiderChannel) Deliver(ctx context.Context, n wire.Notification) error {
	done := make(chan error, 1)
	c.DeliverAsync(n, func(err error) { done <- err })
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// DeliverAsync starts delivering n and calls done once with the outcome:
// nil, cloud.ErrDuplicate, or the error. done may run on the connection's
// ack goroutine: it must not block.
func (c *RiderChannel) DeliverAsync(n wire.Notification, done func(error)) {
	b, err := n.Marshal()
	if err != nil {
		done(fmt.Errorf("%w: %w", cloud.ErrPermanent, err))
		return
	}
	k := c.conn(n)
	if !c.outbox {
		done(c.publishDirect(k, n, b))
		return
	}
	msg := &nats.Msg{Subject: OutboxSubject(OutboxPartition(n.Rider, c.parts), n.Rider, n.ID), Data: b} // no header map unless traced
	if n.Traceparent != "" {
		msg.Header = nats.Header{}
		msg.Header.Set(wire.HeaderTraceparent, n.Traceparent)
	}
	c.mu.Lock()
	c.waiting[msg] = done
	c.mu.Unlock()
	if _, err := c.jss[k].PublishMsgAsync(msg); err != nil {
		c.finish(msg, fmt.Errorf("publish %s: %w", msg.Subject, err))
	}
}

func (c *RiderChannel) publishDirect(k int, n wire.Notification, b []byte) error {
	msg := nats.NewMsg(wire.RiderSubject(n.Rider, idKey(n.ID)))
	msg.Data = b
	if n.Traceparent != "" {
		msg.Header.Set(wire.HeaderTraceparent, n.Traceparent)
	}
	if err := c.conns[k].PublishMsg(msg); err != nil {
		return fmt.Errorf("publish %s: %w", msg.Subject, err)
	}
	return c.conns[k].Flush()
}

func (c *RiderChannel) conn(n wire.Notification) int {
	if len(c.conns) == 1 {
		return 0
	}
	return int(orderHash(n.Store, n.OrderID) % uint32(len(c.conns)))
}

func (c *RiderChannel) acked(_ jetstream.JetStream, msg *nats.Msg, ack *jetstream.PubAck) {
	if ack.Duplicate {
		c.finish(msg, cloud.ErrDuplicate)
		return
	}
	c.finish(msg, nil)
}

func (c *RiderChannel) failed(_ jetstream.JetStream, msg *nats.Msg, err error) {
	if refusedRepeat(err) {
		err = cloud.ErrDuplicate
	} else {
		err = fmt.Errorf("publish %s: %w", msg.Subject, err)
	}
	c.finish(msg, err)
}

func (c *RiderChannel) finish(msg *nats.Msg, err error) {
	c.mu.Lock()
	done, ok := c.waiting[msg]
	delete(c.waiting, msg)
	c.mu.Unlock()
	if ok {
		done(err)
	}
}

// refusedRepeat reports whether err is the outbox refusing a second
// message on a decision's subject.
func refusedRepeat(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && strings.Contains(apiErr.Description, "maximum messages per subject")
}
