package natsjs

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/wire"
)

// RiderChannel delivers a notification on wire.RiderSubject(rider).
//
// With Outbox (the default in the app) it publishes to the RIDER_OUTBOX
// stream with the decision id as Nats-Msg-Id and returns after the server's
// ack; the stream republishes the stored message to the rider subject. A
// duplicate within the outbox's dedupe window is not stored and so never
// republished: a relay that crashed after delivering and before saving its
// mark cannot make a rider see a decision twice.
//
// Without Outbox it publishes straight to the rider subject and flushes:
// faster, but a crash between delivery and mark repeats the message.
//
// Publishes are spread round-robin over the connections given, so one
// connection's server-side processing does not cap the rate.
type RiderChannel struct {
	NC     []*nats.Conn
	JS     []jetstream.JetStream
	Outbox bool
	next   atomic.Uint64
}

// Name implements cloud.Channel.
func (*RiderChannel) Name() string { return "rider" }

// Deliver implements cloud.Channel.
func (c *RiderChannel) Deliver(ctx context.Context, n wire.Notification) error {
	k := int(c.next.Add(1) % uint64(len(c.NC)))
	b, err := n.Marshal()
	if err != nil {
		return fmt.Errorf("%w: %w", cloud.ErrPermanent, err)
	}
	subject := wire.RiderSubject(n.Rider)
	if c.Outbox {
		subject = OutboxSubject(n.Rider)
	}
	msg := nats.NewMsg(subject)
	msg.Data = b
	if n.TraceID != "" {
		msg.Header.Set(wire.HeaderTraceID, n.TraceID)
	}
	if !c.Outbox {
		if err := c.NC[k].PublishMsg(msg); err != nil {
			return fmt.Errorf("publish %s: %w", subject, err)
		}
		return c.NC[k].FlushWithContext(ctx)
	}
	msg.Header.Set(wire.HeaderMsgID, n.ID)
	if _, err := c.JS[k].PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("publish %s: %w", subject, err)
	}
	return nil
}
