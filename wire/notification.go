package wire

import (
	"fmt"
	"time"
)

// Notification is what a rider receives on passline.rider.{rider}.notify.{key}:
// the rendered text and the structured fields it was made from. ID is the
// decision id, so a rider app can drop a duplicate.
//
// A rider sees one card per order (Store, OrderID), not a stream of
// messages: a notification replaces the order's card when it Supersedes
// the one shown, and is otherwise dropped, so a late, older decision never
// overwrites a newer one.
type Notification struct {
	V         int          `json:"v"`
	ID        string       `json:"id"` // the decision id
	Rider     string       `json:"rider"`
	Store     string       `json:"store"`
	StoreName string       `json:"store_name,omitempty"`
	OrderID   string       `json:"order_id"`
	ShortCode string       `json:"short_code,omitempty"`
	Kind      DecisionKind `json:"kind"`
	// EventID names the kitchen event that caused the decision; empty
	// for a prediction. Delivery platforms take a ready or ready-soon
	// only from a real kitchen event.
	EventID   string     `json:"event_id,omitempty"`
	Locale    string     `json:"locale,omitempty"`
	Text      string     `json:"text"`
	Minutes   *int       `json:"minutes,omitempty"` // minutes until ready, when known
	ETA       *time.Time `json:"eta,omitempty"`
	Shelf     string     `json:"shelf,omitempty"` // pickup shelf
	DecidedAt time.Time  `json:"decided_at"`
	SentAt    time.Time  `json:"sent_at"`
	Replayed  bool       `json:"replayed,omitempty"`
	TraceID   string     `json:"trace_id,omitempty"`
	// Version orders the notifications of one order: the decision's Seq,
	// the agent's per-order decision sequence. It comes from the one
	// place that decides about the order, and is fixed when the decision
	// is written to the agent's outbox, so every relay replica, every
	// redelivery, a decision parked for its rider and released later, and
	// a re-send all carry the same version for the same decision, and a
	// later decision always a higher one. (The JetStream sequence was not
	// used: a released decision is stored again under a new sequence, and
	// DECISIONS and its partitions number apart.) Zero: the decision
	// came from an agent older than Seq; such notifications are ordered
	// by DecidedAt alone.
	Version uint64 `json:"version,omitempty"`
	// Flags are the decision's flags (FlagEarlyReady, FlagCookStart).
	Flags []string `json:"flags,omitempty"`
	// Resent marks the one re-send of a ready the rider did not
	// acknowledge (POST /v1/riders/{rider}/orders/{order}/ack).
	Resent bool `json:"resent,omitempty"`
	// Traceparent is the W3C traceparent of the relay span that delivered
	// the notification; channels send it as their traceparent header.
	Traceparent string `json:"traceparent,omitempty"`
}

// Supersedes reports whether n should replace old on the rider's card of
// the same order: a higher Version, or the same Version decided no
// earlier (the same decision again, a re-send). Versions are compared
// first, so an agent's clock going back cannot reorder one order's
// decisions; DecidedAt breaks ties only among version-0 notifications
// from older agents.
func (n *Notification) Supersedes(old Notification) bool {
	if n.Version != old.Version {
		return n.Version > old.Version
	}
	return !n.DecidedAt.Before(old.DecidedAt)
}

// Validate checks the notification's fields.
func (n *Notification) Validate() error {
	if n.ID == "" || len(n.ID) > MaxTextLen {
		return invalid("id", "must be 1-%d characters", MaxTextLen)
	}
	if err := checkToken("rider", n.Rider); err != nil {
		return err
	}
	if err := checkToken("store", n.Store); err != nil {
		return err
	}
	if err := checkOrderID("order_id", n.OrderID); err != nil {
		return err
	}
	if !n.Kind.Valid() {
		return invalid("kind", "unknown kind %q", n.Kind)
	}
	if n.Text == "" || len(n.Text) > 4096 {
		return invalid("text", "must be 1-4096 bytes")
	}
	if n.SentAt.IsZero() {
		return invalid("sent_at", "missing")
	}
	return nil
}

// DecodeNotification decodes and validates a rider notification.
func DecodeNotification(b []byte) (Notification, error) {
	var n Notification
	err := decode(b, &n, func() int { return n.V })
	return n, err
}

// Marshal validates and encodes the notification, setting V to Version.
func (n Notification) Marshal() ([]byte, error) {
	n.V = Version
	if err := n.Validate(); err != nil {
		return nil, err
	}
	b, ok := n.appendJSON(make([]byte, 0, 512))
	if !ok {
		return encode(&n) // json.Marshal's error
	}
	if len(b) > MaxPayload {
		return nil, &Error{Reason: ReasonOversize, Msg: fmt.Sprintf("payload is %d bytes, limit %d", len(b), MaxPayload)}
	}
	return b, nil
}

// Assignment tells the relay which rider carries an order. The platform
// sends it on passline.{store}.assign or POST /v1/assignments.
type Assignment struct {
	V             int       `json:"v"`
	Store         string    `json:"store"`
	OrderID       string    `json:"order_id"`
	Rider         string    `json:"rider"`
	TravelSeconds int       `json:"travel_s,omitempty"` // rider's travel time to the store; 0 means unknown
	Locale        string    `json:"locale,omitempty"`   // rider's locale, e.g. "zh-CN", "en"
	At            time.Time `json:"at"`
}

// Validate checks the assignment's fields.
func (a *Assignment) Validate() error {
	if err := checkToken("store", a.Store); err != nil {
		return err
	}
	if err := checkOrderID("order_id", a.OrderID); err != nil {
		return err
	}
	if err := checkToken("rider", a.Rider); err != nil {
		return err
	}
	if a.TravelSeconds < 0 || a.TravelSeconds > 4*3600 {
		return invalid("travel_s", "%d is out of range 0-14400", a.TravelSeconds)
	}
	if err := checkText("locale", a.Locale); err != nil {
		return err
	}
	if a.At.IsZero() {
		return invalid("at", "missing")
	}
	return nil
}

// DecodeAssignment decodes and validates an assignment.
func DecodeAssignment(b []byte) (Assignment, error) {
	var a Assignment
	err := decode(b, &a, func() int { return a.V })
	return a, err
}

// Marshal validates and encodes the assignment, setting V to Version.
func (a Assignment) Marshal() ([]byte, error) {
	a.V = Version
	return encode(&a)
}
