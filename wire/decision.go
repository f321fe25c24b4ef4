package wire

import (
	"time"
)

// DecisionKind is what the agent decided to tell the rider.
type DecisionKind string

// Decision kinds. Only a real kitchen event (bump, scale, ticket scan) may
// produce KindReady; the model produces ready_soon, eta and delayed.
const (
	KindReadySoon DecisionKind = "ready_soon" // ready within the rider's lead time, with confidence
	KindReady     DecisionKind = "ready"      // the kitchen says it is ready for pickup
	KindETA       DecisionKind = "eta"        // countdown update
	KindDelayed   DecisionKind = "delayed"    // running late: slipped past what the rider was told
	KindCancelled DecisionKind = "cancelled"  // the order was cancelled
)

// Kinds lists every decision kind.
var Kinds = []DecisionKind{KindReadySoon, KindReady, KindETA, KindDelayed, KindCancelled}

// Valid reports whether k is a known decision kind.
func (k DecisionKind) Valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// Critical reports whether a decision of this kind must never be dropped
// by a full outbox or a rate limit: ready and cancelled.
func (k DecisionKind) Critical() bool { return k == KindReady || k == KindCancelled }

// Flags a decision may carry.
const (
	// FlagEarlyReady marks a ready that came less than a minute after its
	// ticket; some platforms (Meituan) reject such reports.
	FlagEarlyReady = "early_ready"
	// FlagCookStart marks a decision made when a real kitchen event started
	// cooking the order (the start key, or the ticket of a store that
	// starts automatically): Deliveroo hears it as prep stage in_kitchen.
	FlagCookStart = "cook_start"
	// FlagRecalled marks the delayed decision that supersedes a ready
	// after the kitchen recalled (un-bumped) the order: the food is not
	// ready after all. A new ready follows when the order is bumped again.
	FlagRecalled = "recalled"
)

// Decision is one thing the agent decided to tell an order's rider. Its ID
// is stable across retries and replays, so JetStream (Nats-Msg-Id) and the
// relay can drop duplicates.
type Decision struct {
	V           int          `json:"v"`
	ID          string       `json:"id"`
	Store       string       `json:"store"`
	OrderID     string       `json:"order_id"`
	ShortCode   string       `json:"short_code,omitempty"`
	Kind        DecisionKind `json:"kind"`
	Rule        string       `json:"rule,omitempty"`     // rule that fired
	EventID     string       `json:"event_id,omitempty"` // kitchen event that caused it; required for ready
	CreatedAt   time.Time    `json:"created_at"`         // when decided; kept on replay
	ExpiresAt   time.Time    `json:"expires_at"`         // after this, deliver nothing
	AcceptedAt  time.Time    `json:"accepted_at,omitempty"`
	ETA         *time.Time   `json:"eta,omitempty"`         // predicted ready time
	Probability float64      `json:"probability,omitempty"` // P(ready within lead time | elapsed)
	Replayed    bool         `json:"replayed,omitempty"`    // sent late, after an outage
	TraceID     string       `json:"trace_id,omitempty"`    // hex trace id of Traceparent, for logs
	// Traceparent is the W3C traceparent of the agent span that made the
	// decision, kept with it in the outbox.
	Traceparent string   `json:"traceparent,omitempty"`
	Flags       []string `json:"flags,omitempty"`
	// Seq is the order's decision sequence number on the agent: it goes
	// up by one with every decision about the order, and is stored with
	// the order in the same bbolt transaction that puts the decision in
	// the outbox, so it never repeats or goes back for one order, and a
	// retry or replay carries the same Seq. The relay passes it on as
	// Notification.Version. Zero: an agent older than the field.
	Seq uint64 `json:"seq,omitempty"`
	// Order is, on a ready decision, what was known about the order at
	// accept, so the cloud can fit the fleet prior from the decisions the
	// agents already sync (AcceptedAt to CreatedAt is the prep time).
	Order *OrderFacts `json:"order,omitempty"`
}

// OrderFacts are the features of an order the fleet prior is fitted on:
// item counts, value, station, and the store's category and city tags.
// Every field is optional.
type OrderFacts struct {
	Items    int     `json:"items,omitempty"`
	Distinct int     `json:"distinct,omitempty"`
	Subtotal float64 `json:"subtotal,omitempty"`
	Station  string  `json:"station,omitempty"`
	Category string  `json:"category,omitempty"`
	City     string  `json:"city,omitempty"`
}

func (f *OrderFacts) validate() error {
	if f.Items < 0 || f.Items > MaxItems*MaxQty || f.Distinct < 0 || f.Distinct > MaxItems {
		return invalid("order.items", "%d items, %d distinct: out of range", f.Items, f.Distinct)
	}
	if f.Subtotal < 0 || f.Subtotal != f.Subtotal || f.Subtotal > 1e9 {
		return invalid("order.subtotal", "%v is out of range", f.Subtotal)
	}
	for name, v := range map[string]string{"order.category": f.Category, "order.city": f.City} {
		if v != "" && !ValidToken(v) {
			return invalid(name, "%q is not a tag (1-%d characters of A-Z a-z 0-9 _ -)", v, MaxTokenLen)
		}
	}
	return checkText("order.station", f.Station)
}

// Validate checks the decision's fields.
func (d *Decision) Validate() error {
	if d.ID == "" || len(d.ID) > MaxTextLen {
		return invalid("id", "must be 1-%d characters", MaxTextLen)
	}
	if err := checkToken("store", d.Store); err != nil {
		return err
	}
	if err := checkOrderID("order_id", d.OrderID); err != nil {
		return err
	}
	if !d.Kind.Valid() {
		return invalid("kind", "unknown kind %q", d.Kind)
	}
	if d.Kind == KindReady && d.EventID == "" {
		return invalid("event_id", "a ready decision must name the kitchen event that caused it")
	}
	if d.CreatedAt.IsZero() {
		return invalid("created_at", "missing")
	}
	if !d.ExpiresAt.After(d.CreatedAt) {
		return invalid("expires_at", "must be after created_at")
	}
	if d.Probability < 0 || d.Probability > 1 || d.Probability != d.Probability {
		return invalid("probability", "%v is not in [0,1]", d.Probability)
	}
	for name, s := range map[string]string{"short_code": d.ShortCode, "rule": d.Rule, "event_id": d.EventID, "trace_id": d.TraceID, "traceparent": d.Traceparent} {
		if err := checkText(name, s); err != nil {
			return err
		}
	}
	if len(d.Flags) > 16 {
		return invalid("flags", "more than 16 flags")
	}
	if d.Order != nil {
		return d.Order.validate()
	}
	return nil
}

// DecodeDecision decodes and validates a decision payload.
func DecodeDecision(b []byte) (Decision, error) {
	var d Decision
	if len(b) <= MaxPayload && scanDecision(b, &d) {
		return d, checkDecoded(&d, d.V)
	}
	d = Decision{}
	err := decode(b, &d, func() int { return d.V })
	return d, err
}

// Marshal validates and encodes the decision, setting V to Version.
func (d Decision) Marshal() ([]byte, error) {
	d.V = Version
	return encode(&d)
}
