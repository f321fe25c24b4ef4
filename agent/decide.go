package agent

import (
	"fmt"
	"time"

	"github.com/passline/passline/wire"
)

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
		if _, sent := o.Sent[wire.KindCancelled]; !sent {
			return []wire.Decision{d.decision(o, t, wire.KindCancelled)}
		}
	case Reached(o.Status, wire.StatusDone) && !Reached(t.From, wire.StatusDone):
		if _, sent := o.Sent[wire.KindReady]; !sent {
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
// stored in the outbox with it and every retry and replay reuses it.
func NewDecision(o *Order, kind wire.DecisionKind, now time.Time, ttl time.Duration) wire.Decision {
	o.Seq++
	return wire.Decision{
		V:          wire.Version,
		ID:         fmt.Sprintf("%s.%s.%s.%d", o.Store, o.ID, kind, o.Seq),
		Store:      o.Store,
		OrderID:    o.ID,
		ShortCode:  o.ShortCode,
		Kind:       kind,
		CreatedAt:  now,
		ExpiresAt:  now.Add(ttl),
		AcceptedAt: o.AcceptedAt,
		TraceID:    o.TraceID,
	}
}

// MarkSent records in o.Sent that the rider is being told d.
func (o *Order) MarkSent(d wire.Decision) {
	if o.Sent == nil {
		o.Sent = map[wire.DecisionKind]Sent{}
	}
	s := o.Sent[d.Kind]
	s.ID, s.At, s.Count = d.ID, d.CreatedAt, s.Count+1
	if d.ETA != nil {
		s.ETA = *d.ETA
	}
	o.Sent[d.Kind] = s
}

// Learner learns from completed orders. If the Decider also implements
// Learner, the writer calls Learn inside the write transaction for every
// order that reaches history, so it must be fast and do no I/O. If it also
// implements encoding.BinaryMarshaler, the writer saves the model to the
// state db (bucket "model", key = store) in that same transaction.
type Learner interface {
	Learn(r HistoryRecord)
}

// HistoryRecord is a completed order with the features prediction needs. It
// is what the agent keeps in its history bucket (bounded retention).
type HistoryRecord struct {
	Store       string           `json:"store"`
	OrderID     string           `json:"order_id"`
	Status      wire.OrderStatus `json:"status"` // final status: picked_up, cancelled, or done/packed when closed by age
	Channel     string           `json:"channel,omitempty"`
	AcceptedAt  time.Time        `json:"accepted_at"`
	StartedAt   time.Time        `json:"started_at,omitempty"`
	ReadyAt     time.Time        `json:"ready_at,omitempty"` // bumped (done), else packed; zero if never ready
	PackedAt    time.Time        `json:"packed_at,omitempty"`
	ClosedAt    time.Time        `json:"closed_at"`
	PromisedAt  time.Time        `json:"promised_at,omitempty"`
	Items       int              `json:"items"`
	Distinct    int              `json:"distinct_items"`
	SKUs        []string         `json:"skus,omitempty"` // one entry per unit
	Station     string           `json:"station,omitempty"`
	Load        Load             `json:"load"` // kitchen load at accept
	Hour        int              `json:"hour"` // hour of day at accept, local time of the box
	Weekday     time.Weekday     `json:"weekday"`
	PrepSeconds float64          `json:"prep_s,omitempty"` // ReadyAt - AcceptedAt; 0 if unknown
}

// NewHistoryRecord makes o's history record, closed at now.
func NewHistoryRecord(o *Order, now time.Time) HistoryRecord {
	r := HistoryRecord{
		Store: o.Store, OrderID: o.ID, Status: o.Status, Channel: o.Channel,
		AcceptedAt: o.AcceptedAt, StartedAt: o.StartedAt, PackedAt: o.PackedAt,
		ClosedAt: now, PromisedAt: o.PromisedAt, Items: o.ItemCount(),
		Station: o.Station, Load: o.Load,
		Hour: o.AcceptedAt.Local().Hour(), Weekday: o.AcceptedAt.Local().Weekday(),
	}
	distinct := map[string]bool{}
	for _, it := range o.Items {
		distinct[it.SKU] = true
		for i := 0; i < it.Qty && len(r.SKUs) < MaxHistorySKUs; i++ {
			r.SKUs = append(r.SKUs, it.SKU)
		}
	}
	r.Distinct = len(distinct)
	r.ReadyAt = o.DoneAt
	if r.ReadyAt.IsZero() {
		r.ReadyAt = o.PackedAt
	}
	if !r.ReadyAt.IsZero() && !o.AcceptedAt.IsZero() && r.ReadyAt.After(o.AcceptedAt) {
		r.PrepSeconds = r.ReadyAt.Sub(o.AcceptedAt).Seconds()
	}
	return r
}

// MaxHistorySKUs bounds the SKU list kept per history record.
const MaxHistorySKUs = 64

// Expire closes open orders that will not move again: orders finished
// (done or packed) longer than finishedTTL ago, whose pickup nobody
// reported, and placeholders whose ticket never came within orphanTTL. The
// returned changes have Closed set; a change whose order has no ticket is an
// orphan to reject rather than to learn from.
func (k *Kitchen) Expire(now time.Time, finishedTTL, orphanTTL time.Duration) []*Change {
	var out []*Change
	for _, o := range k.Orders {
		finished := o.DoneAt
		if finished.IsZero() {
			finished = o.PackedAt
		}
		switch {
		case o.TicketSeen && Reached(o.Status, wire.StatusDone) && now.Sub(finished) > finishedTTL,
			!o.TicketSeen && now.Sub(firstSeen(o)) > orphanTTL:
			out = append(out, &Change{Order: o, From: o.Status, Closed: true})
		}
	}
	for _, c := range out {
		delete(k.Orders, c.Order.ID)
		k.track(c.Order)
	}
	return out
}

func firstSeen(o *Order) time.Time {
	for _, t := range []time.Time{o.AcceptedAt, o.StartedAt, o.DoneAt, o.PackedAt} {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}
