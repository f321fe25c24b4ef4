package wire

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// EventKind is the last level of a device topic and the kind of an Event.
type EventKind string

// Device event kinds.
const (
	EventTicket   EventKind = "ticket"          // printer or POS: an order's ticket was printed
	EventUnparsed EventKind = "unparsed_ticket" // printer: a ticket nobody could parse; Raw kept
	EventKey      EventKind = "key"             // bump bar: a key was pressed
	EventWeight   EventKind = "weight"          // scale: a stable weight
	EventPOS      EventKind = "pos_status"      // POS/KDS: an order changed status
	EventScan     EventKind = "scan"            // barcode scanner: a ticket's code was scanned at packing (ready)
	EventStatus   EventKind = "status"          // any device: online/offline (retained)
)

// Valid reports whether k is a known event kind.
func (k EventKind) Valid() bool {
	switch k {
	case EventTicket, EventUnparsed, EventKey, EventWeight, EventPOS, EventScan, EventStatus:
		return true
	}
	return false
}

// Limits on event fields. Anything beyond them is absurd, not big.
const (
	MaxItems     = 200      // items on one ticket
	MaxQty       = 999      // quantity of one item
	MaxTextLen   = 256      // names, channels, details
	MaxRawLen    = 32 << 10 // raw ticket text
	MaxGrams     = 100_000  // 100 kg on a packing scale
	MaxPosition  = 99       // bump bar queue position
	MaxClockSkew = 24 * time.Hour
	MaxEventAge  = 30 * 24 * time.Hour
)

// Event is one thing a kitchen device saw. Exactly one of the bodies is set,
// the one that matches Kind.
type Event struct {
	V        int       `json:"v"`
	ID       string    `json:"id"`        // unique per event; a redelivered event keeps its id
	Kind     EventKind `json:"kind"`      // must match the topic's last level
	Store    string    `json:"store"`     // must match the topic's store
	DeviceID string    `json:"device_id"` // must match the topic's device id
	At       time.Time `json:"at"`        // when the device saw it
	// TraceID is the hex trace id of Traceparent, kept for log lines and
	// for agents that predate Traceparent; an old bridge's free-form id is
	// still accepted.
	TraceID string `json:"trace_id,omitempty"`
	// Traceparent is the W3C traceparent of the bridge span that published
	// the event. MQTT 3.1.1 has no user properties, so the trace context
	// rides in the payload; an event without it starts a new trace.
	Traceparent string `json:"traceparent,omitempty"`

	Ticket *Ticket       `json:"ticket,omitempty"` // ticket, unparsed_ticket
	Key    *Key          `json:"key,omitempty"`    // key
	Weight *Weight       `json:"weight,omitempty"` // weight
	POS    *POSStatus    `json:"pos,omitempty"`    // pos_status
	Scan   *Scan         `json:"scan,omitempty"`   // scan
	Status *DeviceStatus `json:"status,omitempty"` // status
}

// Ticket is a printed order ticket.
type Ticket struct {
	OrderID    string     `json:"order_id,omitempty"`   // required unless unparsed
	ShortCode  string     `json:"short_code,omitempty"` // pickup number printed for the rider, e.g. "#23"
	Channel    string     `json:"channel,omitempty"`    // delivery platform, e.g. "meituan"
	Items      []Item     `json:"items,omitempty"`
	PromisedAt *time.Time `json:"promised_at,omitempty"` // what the platform promised the customer
	Subtotal   float64    `json:"subtotal,omitempty"`
	Raw        string     `json:"raw,omitempty"` // decoded ticket text; required when unparsed
}

// Item is one line of a ticket.
type Item struct {
	SKU     string `json:"sku"`
	Name    string `json:"name,omitempty"`
	Qty     int    `json:"qty"`
	Station string `json:"station,omitempty"` // wok, grill, fryer, cold, drinks, ...
}

// KeyAction is what a bump bar key does.
type KeyAction string

// Bump bar actions, as on a KDS bump bar.
const (
	KeyBump   KeyAction = "bump"   // done: the selected order, else the oldest open order at the station
	KeyStart  KeyAction = "start"  // cooking started on the selected or oldest accepted order
	KeyRecall KeyAction = "recall" // reopen the last bumped order at the station
	KeySelect KeyAction = "select" // select the order at Position in the station's queue
	KeyMark   KeyAction = "mark"   // flag (or unflag) the selected or oldest order on the board
)

// Valid reports whether a is a known action.
func (a KeyAction) Valid() bool {
	switch a {
	case KeyBump, KeyStart, KeyRecall, KeySelect, KeyMark:
		return true
	}
	return false
}

// Key is one bump bar key press.
type Key struct {
	Action   KeyAction `json:"action"`
	Station  string    `json:"station,omitempty"`  // the bar's station; empty means the whole kitchen
	Position int       `json:"position,omitempty"` // 1-based queue position, for select
	OrderID  string    `json:"order_id,omitempty"` // set by a KDS that knows the order
	Code     int       `json:"code,omitempty"`     // raw key code, for diagnosis
}

// Weight is a stable weight on the packing scale.
type Weight struct {
	Grams   float64 `json:"grams"`
	Stable  bool    `json:"stable"`
	OrderID string  `json:"order_id,omitempty"` // set when a bag label was scanned
}

// Scan is one code read by a barcode scanner: what it typed before Enter,
// as printed on the ticket (the print proxy's QR code carries the order
// id; a platform barcode or a pickup number may be scanned too). The agent
// finds the order the code names; a code naming no open order is refused.
type Scan struct {
	Code string `json:"code"`
}

// MaxScanLen is the longest scanned code: longer input is not a ticket's.
const MaxScanLen = 128

// OrderStatus is an order's lifecycle state, as the agent keeps it and as a
// POS may report it.
type OrderStatus string

// Order lifecycle states.
const (
	StatusAccepted  OrderStatus = "accepted"
	StatusStarted   OrderStatus = "started"
	StatusDone      OrderStatus = "done"
	StatusPacked    OrderStatus = "packed"
	StatusPickedUp  OrderStatus = "picked_up"
	StatusCancelled OrderStatus = "cancelled"
)

// Valid reports whether s is a known status.
func (s OrderStatus) Valid() bool {
	switch s {
	case StatusAccepted, StatusStarted, StatusDone, StatusPacked, StatusPickedUp, StatusCancelled:
		return true
	}
	return false
}

// POSStatus is an order status reported by a POS or KDS. An accepted status
// may carry the ticket's contents.
type POSStatus struct {
	OrderID string      `json:"order_id"`
	Status  OrderStatus `json:"status"`
	Ticket  *Ticket     `json:"ticket,omitempty"`
}

// DeviceStatus is a device's health.
type DeviceStatus struct {
	Online bool   `json:"online"`
	Detail string `json:"detail,omitempty"`
}

// Validate checks the event against the current time.
func (e *Event) Validate() error { return e.ValidateAt(time.Now()) }

// ValidateAt checks the event as of now: fields present, sizes and
// quantities sane, the timestamp neither years off nor far in the future.
func (e *Event) ValidateAt(now time.Time) error {
	if err := checkToken("store", e.Store); err != nil {
		return err
	}
	if err := checkToken("device_id", e.DeviceID); err != nil {
		return err
	}
	if e.ID == "" || len(e.ID) > MaxTextLen || !utf8.ValidString(e.ID) {
		return invalid("id", "must be 1-%d characters", MaxTextLen)
	}
	if e.At.IsZero() {
		return invalid("at", "missing")
	}
	if e.At.After(now.Add(MaxClockSkew)) {
		return invalid("at", "%s is more than %s in the future", e.At.Format(time.RFC3339), MaxClockSkew)
	}
	if e.At.Before(now.Add(-MaxEventAge)) {
		return invalid("at", "%s is more than %s old", e.At.Format(time.RFC3339), MaxEventAge)
	}
	if len(e.TraceID) > MaxTextLen {
		return invalid("trace_id", "longer than %d", MaxTextLen)
	}
	if len(e.Traceparent) > MaxTextLen {
		return invalid("traceparent", "longer than %d", MaxTextLen)
	}
	bodies := 0
	for _, set := range []bool{e.Ticket != nil, e.Key != nil, e.Weight != nil, e.POS != nil, e.Scan != nil, e.Status != nil} {
		if set {
			bodies++
		}
	}
	if bodies > 1 {
		return invalid("kind", "more than one body is set")
	}
	switch e.Kind {
	case EventTicket:
		if e.Ticket == nil {
			return invalid("ticket", "missing for kind %q", e.Kind)
		}
		return e.Ticket.validate("ticket", false)
	case EventUnparsed:
		if e.Ticket == nil {
			return invalid("ticket", "missing for kind %q", e.Kind)
		}
		return e.Ticket.validate("ticket", true)
	case EventKey:
		if e.Key == nil {
			return invalid("key", "missing for kind %q", e.Kind)
		}
		return e.Key.validate()
	case EventWeight:
		if e.Weight == nil {
			return invalid("weight", "missing for kind %q", e.Kind)
		}
		return e.Weight.validate()
	case EventPOS:
		if e.POS == nil {
			return invalid("pos", "missing for kind %q", e.Kind)
		}
		return e.POS.validate()
	case EventScan:
		if e.Scan == nil {
			return invalid("scan", "missing for kind %q", e.Kind)
		}
		return e.Scan.validate()
	case EventStatus:
		if e.Status == nil {
			return invalid("status", "missing for kind %q", e.Kind)
		}
		if len(e.Status.Detail) > MaxTextLen {
			return invalid("status.detail", "longer than %d", MaxTextLen)
		}
		return nil
	default:
		return invalid("kind", "unknown kind %q", e.Kind)
	}
}

func checkOrderID(field, id string) error {
	if !ValidToken(id) {
		return invalid(field, "%q is not an order id (1-%d characters of A-Z a-z 0-9 _ -)", id, MaxTokenLen)
	}
	return nil
}

func checkText(field, s string) error {
	if len(s) > MaxTextLen || !utf8.ValidString(s) {
		return invalid(field, "must be valid UTF-8 of at most %d bytes", MaxTextLen)
	}
	return nil
}

func (t *Ticket) validate(field string, unparsed bool) error {
	if unparsed {
		if t.Raw == "" {
			return invalid(field+".raw", "an unparsed ticket must carry its raw text")
		}
	} else if err := checkOrderID(field+".order_id", t.OrderID); err != nil {
		return err
	}
	if len(t.Raw) > MaxRawLen || !utf8.ValidString(t.Raw) {
		return invalid(field+".raw", "must be valid UTF-8 of at most %d bytes", MaxRawLen)
	}
	for name, s := range map[string]string{"short_code": t.ShortCode, "channel": t.Channel} {
		if err := checkText(field+"."+name, s); err != nil {
			return err
		}
	}
	if t.Subtotal < 0 || t.Subtotal > 1e7 {
		return invalid(field+".subtotal", "%v is out of range", t.Subtotal)
	}
	if len(t.Items) > MaxItems {
		return invalid(field+".items", "%d items, limit %d", len(t.Items), MaxItems)
	}
	for i, it := range t.Items {
		f := fmt.Sprintf("%s.items[%d]", field, i)
		if it.SKU == "" {
			return invalid(f+".sku", "missing")
		}
		if it.Qty < 1 || it.Qty > MaxQty {
			return invalid(f+".qty", "%d is out of range 1-%d", it.Qty, MaxQty)
		}
		for name, s := range map[string]string{"sku": it.SKU, "name": it.Name, "station": it.Station} {
			if err := checkText(f+"."+name, s); err != nil {
				return err
			}
		}
	}
	return nil
}

func (k *Key) validate() error {
	if !k.Action.Valid() {
		return invalid("key.action", "unknown action %q", k.Action)
	}
	if err := checkText("key.station", k.Station); err != nil {
		return err
	}
	if k.Position < 0 || k.Position > MaxPosition {
		return invalid("key.position", "%d is out of range 0-%d", k.Position, MaxPosition)
	}
	if k.Action == KeySelect && k.Position == 0 && k.OrderID == "" {
		return invalid("key.position", "select needs a position or an order id")
	}
	if k.OrderID != "" {
		return checkOrderID("key.order_id", k.OrderID)
	}
	return nil
}

func (s *Scan) validate() error {
	if s.Code == "" || len(s.Code) > MaxScanLen {
		return invalid("scan.code", "must be 1-%d bytes", MaxScanLen)
	}
	for _, r := range s.Code {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return invalid("scan.code", "%q holds a control character or invalid UTF-8", s.Code)
		}
	}
	return nil
}

func (w *Weight) validate() error {
	if w.Grams < 0 || w.Grams > MaxGrams || w.Grams != w.Grams {
		return invalid("weight.grams", "%v is out of range 0-%d", w.Grams, MaxGrams)
	}
	if w.OrderID != "" {
		return checkOrderID("weight.order_id", w.OrderID)
	}
	return nil
}

func (p *POSStatus) validate() error {
	if err := checkOrderID("pos.order_id", p.OrderID); err != nil {
		return err
	}
	if !p.Status.Valid() {
		return invalid("pos.status", "unknown status %q", p.Status)
	}
	if p.Ticket != nil {
		return p.Ticket.validate("pos.ticket", false)
	}
	return nil
}

// OrderID returns the order the event names, or "" when it names none
// (a bump bar key that acts on a queue position, a weight with no label).
func (e *Event) OrderID() string {
	switch {
	case e.Ticket != nil:
		return e.Ticket.OrderID
	case e.Key != nil:
		return e.Key.OrderID
	case e.Weight != nil:
		return e.Weight.OrderID
	case e.POS != nil:
		return e.POS.OrderID
	}
	return ""
}

// DecodeEvent decodes and validates a device event payload.
func DecodeEvent(b []byte) (Event, error) {
	var e Event
	err := decode(b, &e, func() int { return e.V })
	return e, err
}

// DecodeEventOn decodes an event received on an MQTT topic and checks that
// the topic and payload agree on store, device id and kind.
func DecodeEventOn(topic string, b []byte) (Topic, Event, error) {
	t, err := ParseTopic(topic)
	if err != nil {
		return Topic{}, Event{}, err
	}
	e, err := DecodeEvent(b)
	if err != nil {
		return t, e, err
	}
	switch {
	case e.Store != t.Store:
		return t, e, invalid("store", "%q does not match topic store %q", e.Store, t.Store)
	case e.DeviceID != t.DeviceID:
		return t, e, invalid("device_id", "%q does not match topic device id %q", e.DeviceID, t.DeviceID)
	case e.Kind != t.Event:
		return t, e, invalid("kind", "%q does not match topic event %q", e.Kind, t.Event)
	}
	return t, e, nil
}

// Marshal validates and encodes the event, setting V to Version.
func (e Event) Marshal() ([]byte, error) {
	e.V = Version
	return encode(&e)
}
