// Package agent holds the in-store agent's domain: orders and their
// lifecycle, the decisions made about them, and the interfaces the agent's
// parts are plugged together with. Each technology lives in a subpackage
// named after it (bolt, mqtt, gpio, uplink, predict, rules); the program is
// wired in agent/app and started by agent/cmd/passline-agent.
package agent

import (
	"time"

	"github.com/passline/passline/wire"
)

// Order is an order as the agent keeps it.
type Order struct {
	Store     string           `json:"store"`
	ID        string           `json:"id"`
	ShortCode string           `json:"short_code,omitempty"`
	Channel   string           `json:"channel,omitempty"`
	Status    wire.OrderStatus `json:"status"`
	Station   string           `json:"station,omitempty"` // station of the order's longest item
	Items     []wire.Item      `json:"items,omitempty"`
	// TicketSeen is false for an order known only from an event that came
	// before its ticket (a bump before the ticket, say).
	TicketSeen bool `json:"ticket_seen"`

	PromisedAt time.Time `json:"promised_at,omitempty"`
	// Subtotal is the order value from the ticket (0 when unknown); the
	// prep-time model uses it.
	Subtotal    float64   `json:"subtotal,omitempty"`
	AcceptedAt  time.Time `json:"accepted_at,omitempty"`
	StartedAt   time.Time `json:"started_at,omitempty"`
	DoneAt      time.Time `json:"done_at,omitempty"`
	PackedAt    time.Time `json:"packed_at,omitempty"`
	PickedUpAt  time.Time `json:"picked_up_at,omitempty"`
	CancelledAt time.Time `json:"cancelled_at,omitempty"`

	// Load is the kitchen load when the order was accepted.
	Load Load `json:"load"`
	// LeadTime is the rider's travel time when the assignment gave one.
	LeadTime time.Duration `json:"lead_time,omitempty"`
	// Sent records, per decision kind, what the rider has been told.
	Sent SentLog `json:"sent,omitempty"`
	// Seq numbers this order's decisions, so their ids stay unique and stable.
	Seq     int    `json:"seq"`
	TraceID string `json:"trace_id,omitempty"`
	// Marked is the kitchen's flag on the order (a bump bar's mark key, as
	// on a KDS): the board highlights it. A second mark clears it.
	Marked bool `json:"marked,omitempty"`
	// Traceparent is the W3C traceparent of the agent span that took in
	// the order's ticket (or the event that created it): the order's
	// trace, the parent of every decision about it.
	Traceparent string `json:"traceparent,omitempty"`
	// Stale is set when the event that created the order, or its ticket,
	// was older than the agent's stale horizon when it arrived: the order
	// is kept and learned from, but no rider is told anything about it.
	Stale bool `json:"stale,omitempty"`
}

// Load is how busy the kitchen was.
type Load struct {
	OpenOrders int `json:"open_orders"`
	OpenItems  int `json:"open_items"`
	// StationOrders is how many of the open orders share this order's
	// Station; it sharpens the prediction (queues form per station). Zero
	// when unknown.
	StationOrders int `json:"station_orders,omitempty"`
}

// Sent is the last decision of one kind told about an order.
type Sent struct {
	ID    string    `json:"id"`
	At    time.Time `json:"at"`
	ETA   time.Time `json:"eta,omitempty"` // the ready time the rider was told, if any
	Count int       `json:"count"`
	// Withdrawn is set when a later event took the decision back (a recall
	// after ready): the kind may be decided again, under a new id, since
	// Count keeps counting.
	Withdrawn bool `json:"withdrawn,omitempty"`
}

// Told reports whether the rider was told a decision of kind that still
// stands (not withdrawn).
func (o *Order) Told(kind wire.DecisionKind) bool {
	s, ok := o.Sent.Get(kind)
	return ok && !s.Withdrawn
}

// ItemCount is the number of items (sum of quantities).
func (o *Order) ItemCount() int {
	n := 0
	for _, it := range o.Items {
		n += it.Qty
	}
	return n
}

// Open reports whether the order is still being prepared or waiting.
func (o *Order) Open() bool {
	switch o.Status {
	case wire.StatusPickedUp, wire.StatusCancelled:
		return false
	}
	return true
}

// Trigger says why an order's decisions are being evaluated.
type Trigger struct {
	Now   time.Time
	Event *wire.Event      // the kitchen event; nil on a timer tick
	From  wire.OrderStatus // status before the event ("" on a timer tick or a new order)
}

// Decider decides what to tell an order's rider. It runs inside the agent's
// write transaction, so the decisions it returns are committed to the outbox
// atomically with the state change that caused them: it must be fast, must
// not block and must not do I/O. It may update o.Sent and o.Seq.
type Decider interface {
	Decide(o *Order, t Trigger) []wire.Decision
}

// Params are the product's decision parameters, set per store.
type Params struct {
	// PredictionWindow is the horizon in which countdown (eta) updates are published.
	PredictionWindow time.Duration `yaml:"prediction_window" json:"prediction_window"`
	// ConfidenceThreshold is the probability a ready_soon decision needs.
	ConfidenceThreshold float64 `yaml:"confidence_threshold" json:"confidence_threshold"`
	// RetryInterval is how often open orders are re-evaluated.
	RetryInterval time.Duration `yaml:"retry_interval" json:"retry_interval"`
	// LeadTime is the rider's travel time when the assignment gives none.
	LeadTime time.Duration `yaml:"lead_time" json:"lead_time"`
}

// DefaultParams returns the product's defaults: 15 min window, 0.85
// confidence, 30 s re-evaluation, 5 min lead time.
func DefaultParams() Params {
	return Params{
		PredictionWindow:    15 * time.Minute,
		ConfidenceThreshold: 0.85,
		RetryInterval:       30 * time.Second,
		LeadTime:            5 * time.Minute,
	}
}

// Rule is one condition → action pair from a store's config. When is an
// expression over the order and the model (see package rules); Emit is the
// decision kind it produces when the expression is true.
type Rule struct {
	Name string            `yaml:"name" json:"name"`
	When string            `yaml:"when" json:"when"`
	Emit wire.DecisionKind `yaml:"emit" json:"emit"`
}
