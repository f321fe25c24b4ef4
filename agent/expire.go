package agent

import (
	"time"

	"github.com/passline/passline/wire"
)

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
