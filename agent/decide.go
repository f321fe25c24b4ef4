package agent

import (
	"fmt"
	"time"

	"github.com/passline/passline/wire"
)

var _ Decider = BasicDecider{}

// BasicDecider is the built-in Decider used when no rules engine is plugged
// in: it tells the rider "ready" the first time a real kitchen event moves
// an order to done or packed, and "cancelled" when the order is cancelled.
// It never emits anything on a timer tick. A ready less than a minute after
// the ticket carries wire.FlagEarlyReady.
type BasicDecider struct {
	// TTL is how long a decision stays deliverable; zero means 2 hours.
	TTL time.Duration
}

// Decide implements Decider.
func (d BasicDecider) Decide(o *Order, t Trigger) []wire.Decision {
	if t.Event == nil {
		return nil
	}
	switch {
	case o.Status == wire.StatusCancelled && t.From != wire.StatusCancelled:
		if !o.Told(wire.KindCancelled) {
			return []wire.Decision{d.decision(o, t, wire.KindCancelled)}
		}
	case Reached(o.Status, wire.StatusDone) && !Reached(t.From, wire.StatusDone):
		if !o.Told(wire.KindReady) {
			return []wire.Decision{d.decision(o, t, wire.KindReady)}
		}
	}
	return nil
}

func (d BasicDecider) decision(o *Order, t Trigger, kind wire.DecisionKind) wire.Decision {
	ttl := d.TTL
	if ttl <= 0 {
		ttl = 2 * time.Hour
	}
	dec := NewDecision(o, kind, t.Now, ttl)
	dec.Rule = "basic"
	dec.EventID = t.Event.ID
	if kind == wire.KindReady && !o.AcceptedAt.IsZero() && t.Event.At.Sub(o.AcceptedAt) < time.Minute {
		dec.Flags = append(dec.Flags, wire.FlagEarlyReady)
	}
	o.MarkSent(dec)
	return dec
}

// NewDecision numbers a new decision about o with the order's next sequence
// number. Its id, {store}.{order}.{kind}.{seq}, is stable: the decision is
// stored in the outbox with it and every retry and replay reuses it. The
// number is also the decision's Seq, which the rider sees as the order's
// card version: o.Seq is saved with the order in the transaction that
// puts the decision in the outbox, so it only grows.
func NewDecision(o *Order, kind wire.DecisionKind, now time.Time, ttl time.Duration) wire.Decision {
	o.Seq++
	return wire.Decision{
		V:           wire.Version,
		ID:          fmt.Sprintf("%s.%s.%s.%d", o.Store, o.ID, kind, o.Seq),
		Store:       o.Store,
		OrderID:     o.ID,
		ShortCode:   o.ShortCode,
		Kind:        kind,
		CreatedAt:   now,
		ExpiresAt:   now.Add(ttl),
		AcceptedAt:  o.AcceptedAt,
		TraceID:     o.TraceID,
		Traceparent: o.Traceparent,
		Seq:         uint64(o.Seq),
	}
}

// MarkSent records in o.Sent that the rider is being told d.
func (o *Order) MarkSent(d wire.Decision) {
	s, _ := o.Sent.Get(d.Kind)
	s.ID, s.At, s.Count, s.Withdrawn = d.ID, d.CreatedAt, s.Count+1, false
	if d.ETA != nil {
		s.ETA = *d.ETA
	}
	o.Sent.Set(d.Kind, s)
}
