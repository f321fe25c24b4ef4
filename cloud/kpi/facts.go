// Package kpi measures readiness outcomes per store and per hour from what
// really happened: the agents' decisions (eta, ready_soon, a kitchen ready,
// cancelled) and the delivery platforms' order timelines (rider arrival and
// pickup, kept in platform.Order records).
//
// Every order has one Facts record; an order belongs to the hour it was
// accepted in, and that hour's Hour record holds one Contribution per
// order, recomputed from the order's Facts whenever they change. KPIs are
// summed from the contributions when read (Summarize), so nothing is ever
// counted twice: a decision redelivered after a crash, or a platform record
// read again, sets the same contribution again. The package knows nothing
// of NATS: Store is implemented by cloud/natsjs.
package kpi

import (
	"math"
	"slices"
	"time"

	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/wire"
)

// EarlyReady is how soon after acceptance a ready report counts as too
// early (Meituan refuses one sent within a minute of acceptance).
const EarlyReady = time.Minute

// DefaultWindow is the promise of a ready_soon without an ETA: the
// product's default lead time.
const DefaultWindow = 5 * time.Minute

// Facts is everything the cloud knows of one order. Zero times are
// unknown.
type Facts struct {
	Store string `json:"store"`
	Order string `json:"order"`
	// AcceptedAt is the kitchen's acceptance (the agent's ticket time);
	// PlatformAcceptedAt the platform's acceptance or placement.
	AcceptedAt         time.Time `json:"accepted_at,omitzero"`
	PlatformAcceptedAt time.Time `json:"platform_accepted_at,omitzero"`
	// FirstSeen is the earliest decision time, the hour's last resort.
	FirstSeen time.Time `json:"first_seen,omitzero"`
	// ReadyAt is the first real kitchen ready (a ready decision, which
	// only a kitchen event produces); ReadyEarly that it was flagged or
	// came less than EarlyReady after acceptance.
	ReadyAt     time.Time    `json:"ready_at,omitzero"`
	ReadyEarly  bool         `json:"ready_early,omitempty"`
	Cancelled   bool         `json:"cancelled,omitempty"`
	ArrivedAt   time.Time    `json:"arrived_at,omitzero"`
	PickedUpAt  time.Time    `json:"picked_up_at,omitzero"`
	Predictions []Prediction `json:"predictions,omitempty"`
	// Decisions are the ids of every decision applied, so a redelivered
	// one changes nothing.
	Decisions []string `json:"decisions,omitempty"`
	// Hour is the hour whose record holds this order's contribution;
	// Stale lists hours that may still hold an older one (the order's
	// hour moved when an earlier acceptance time became known).
	Hour  time.Time   `json:"hour,omitzero"`
	Stale []time.Time `json:"stale,omitempty"`
}

// Prediction is one eta or ready_soon decision: when it was made and the
// ready time it predicted.
type Prediction struct {
	Kind wire.DecisionKind `json:"kind"`
	At   time.Time         `json:"at"`
	ETA  time.Time         `json:"eta,omitzero"`
}

// ApplyDecision records d and reports whether anything changed. A
// decision already applied (same id) changes nothing.
func (f *Facts) ApplyDecision(d wire.Decision) bool {
	if slices.Contains(f.Decisions, d.ID) {
		return false
	}
	f.Store, f.Order = d.Store, d.OrderID
	f.Decisions = append(f.Decisions, d.ID)
	f.FirstSeen = earliest(f.FirstSeen, d.CreatedAt)
	f.AcceptedAt = earliest(f.AcceptedAt, d.AcceptedAt)
	switch d.Kind {
	case wire.KindReady:
		if f.ReadyAt.IsZero() || d.CreatedAt.Before(f.ReadyAt) {
			f.ReadyAt = d.CreatedAt
			f.ReadyEarly = slices.Contains(d.Flags, wire.FlagEarlyReady)
		}
	case wire.KindCancelled:
		f.Cancelled = true
	case wire.KindETA, wire.KindReadySoon:
		p := Prediction{Kind: d.Kind, At: d.CreatedAt}
		if d.ETA != nil {
			p.ETA = *d.ETA
		}
		f.Predictions = append(f.Predictions, p)
	}
	return true
}

// ApplyPlatform records what the platform's order record says and reports
// whether anything changed. The first report of arrival and pickup counts.
func (f *Facts) ApplyPlatform(o platform.Order) bool {
	before := *f
	f.Store, f.Order = o.Store, o.OrderID
	f.PlatformAcceptedAt = earliest(f.PlatformAcceptedAt, earliest(o.AcceptedAt, o.PlacedAt))
	f.ArrivedAt = earliest(f.ArrivedAt, o.RiderArrivedAt)
	f.PickedUpAt = earliest(f.PickedUpAt, o.PickedUpAt)
	if !o.CancelledAt.IsZero() || o.Status == "cancelled" {
		f.Cancelled = true
	}
	return !before.PlatformAcceptedAt.Equal(f.PlatformAcceptedAt) || !before.ArrivedAt.Equal(f.ArrivedAt) ||
		!before.PickedUpAt.Equal(f.PickedUpAt) || before.Cancelled != f.Cancelled
}

// earliest is the earlier of two times, ignoring zero ones.
func earliest(a, b time.Time) time.Time {
	switch {
	case b.IsZero():
		return a
	case a.IsZero() || b.Before(a):
		return b
	}
	return a
}

// HourOf is the UTC hour the order belongs to: that of the kitchen's
// acceptance, else the platform's, else the first decision; zero when
// none is known.
func (f Facts) HourOf() time.Time {
	for _, t := range []time.Time{f.AcceptedAt, f.PlatformAcceptedAt, f.FirstSeen} {
		if !t.IsZero() {
			return t.UTC().Truncate(time.Hour)
		}
	}
	return time.Time{}
}

// accepted is the acceptance time early ready reports are judged from.
func (f Facts) accepted() time.Time {
	if !f.AcceptedAt.IsZero() {
		return f.AcceptedAt
	}
	return f.PlatformAcceptedAt
}

// Contribution is one order's part of its hour's KPIs: the record the
// store's agent reads too, so its shape is wire's.
type Contribution = wire.KPIOrder

// Contribution computes the order's contribution to its hour.
func (f Facts) Contribution() Contribution {
	c := Contribution{Decisions: len(f.Decisions), Cancelled: f.Cancelled, Arrived: !f.ArrivedAt.IsZero()}
	if f.Cancelled {
		return c
	}
	ready := f.ReadyAt
	if !ready.IsZero() {
		c.Ready = true
		c.Early = f.ReadyEarly || (!f.accepted().IsZero() && ready.Sub(f.accepted()) < EarlyReady)
	}
	if c.Arrived && !f.PickedUpAt.IsZero() {
		c.RiderWait = seconds(max(f.PickedUpAt.Sub(f.ArrivedAt), 0))
	}
	if c.Arrived && c.Ready {
		c.AvoidableWait = seconds(max(ready.Sub(f.ArrivedAt), 0))
	}
	if c.Ready && !f.PickedUpAt.IsZero() {
		c.FoodWait = seconds(max(f.PickedUpAt.Sub(ready), 0))
	}
	if !c.Ready {
		return c
	}
	for _, p := range f.Predictions {
		if !p.ETA.IsZero() {
			c.ETAErrors = append(c.ETAErrors, p.ETA.Sub(ready).Seconds())
		}
		if p.Kind == wire.KindReadySoon {
			c.ReadySoon++
			if !ready.After(p.At.Add(Promised(p))) {
				c.ReadySoonKept++
			}
		}
	}
	return c
}

// Promised is the window a ready_soon promised: the whole minutes the rider
// was told ("ready in about N min", N rounded up as the relay renders
// it, at least 1), or DefaultWindow when it carried no ETA.
func Promised(p Prediction) time.Duration {
	if p.ETA.IsZero() {
		return DefaultWindow
	}
	m := math.Ceil(p.ETA.Sub(p.At).Minutes())
	return time.Duration(max(m, 1)) * time.Minute
}

func seconds(d time.Duration) *float64 {
	s := d.Seconds()
	return &s
}
