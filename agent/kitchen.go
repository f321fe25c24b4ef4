package agent

import (
	"sort"
	"time"

	"github.com/passline/passline/wire"
)

// Reasons an event that decoded fine is still refused by the state machine.
// They join wire's reasons as reject reasons and metric labels.
const (
	ReasonUnknownOrder = "unknown_order" // names no open order, or a queue that is empty
	ReasonUnparsed     = "unparsed"      // an unparsed ticket: kept for a person to read
	ReasonStore        = "store"         // an event for another store
	ReasonDuplicate    = "duplicate"     // the event id was applied before (counted, not kept)
	ReasonUnknownCode  = "unknown_code"  // a scanned code that names no open order (or several)
	ReasonRecallWindow = "recall_window" // a recall after the recall window: the order stays ready
)

// Refusal is an event the state machine will not apply, with the reason.
type Refusal struct {
	Reason string
	Msg    string
}

func (r *Refusal) Error() string { return r.Reason + ": " + r.Msg }

// Change is what one event did to one order.
type Change struct {
	Order *Order
	// From is the status before the event; "" for an order the event created.
	From wire.OrderStatus
	// Closed is true when the order left the open set (picked up or
	// cancelled): it belongs in history now.
	Closed bool
}

// Kitchen is the agent's open-order state and bump-bar state: what a KDS
// shows. It is a pure state machine with no I/O. The writer keeps one in
// memory, mutates it while applying a batch inside a bbolt transaction, and
// reloads it from the database when that transaction fails, so it never
// drifts from what was committed.
type Kitchen struct {
	Store string `json:"-"`
	// Orders are the open orders, including placeholders made by an event
	// that came before its ticket. They are stored one per key, not with
	// the bump-bar state.
	Orders map[string]*Order `json:"-"`
	// Selected is, per station, the order a select key chose.
	Selected map[string]string `json:"selected"`
	// LastBumped is, per station, the order the last bump finished, for recall.
	LastBumped map[string]string `json:"last_bumped"`
	// AutoStart marks accepted orders started at once (stores with no start key).
	AutoStart bool `json:"-"`
	// RecallWindow is how long after its bump an order may be recalled;
	// a later recall is refused (ReasonRecallWindow). Zero means no limit.
	RecallWindow time.Duration `json:"-"`
	// Closed reports whether an order id is already in history; a late or
	// repeated event for it changes nothing. Nil means never.
	Closed func(id string) bool `json:"-"`

	prep map[string]int // orders in preparation (ticket seen, not done) -> items
	load Load           // totals over prep
}

// NewKitchen returns an empty kitchen for a store.
func NewKitchen(store string) *Kitchen {
	return &Kitchen{Store: store, Orders: map[string]*Order{}, Selected: map[string]string{}, LastBumped: map[string]string{},
		prep: map[string]int{}}
}

// Reindex recomputes the kitchen load after Orders was filled directly
// (loading from the state db).
func (k *Kitchen) Reindex() {
	k.prep, k.load = map[string]int{}, Load{}
	for _, o := range k.Orders {
		k.track(o)
	}
}

// track updates the load totals after o changed (or left Orders).
func (k *Kitchen) track(o *Order) {
	if n, ok := k.prep[o.ID]; ok {
		delete(k.prep, o.ID)
		k.load.OpenOrders--
		k.load.OpenItems -= n
	}
	if k.Orders[o.ID] == o && o.TicketSeen && rank(o.Status) < rank(wire.StatusDone) {
		n := o.ItemCount()
		k.prep[o.ID] = n
		k.load.OpenOrders++
		k.load.OpenItems += n
	}
}

// rank orders statuses along the lifecycle; cancelled is terminal.
func rank(s wire.OrderStatus) int {
	switch s {
	case wire.StatusAccepted:
		return 1
	case wire.StatusStarted:
		return 2
	case wire.StatusDone:
		return 3
	case wire.StatusPacked:
		return 4
	case wire.StatusPickedUp:
		return 5
	case wire.StatusCancelled:
		return 6
	}
	return 0
}

// Reached reports whether status s is at or past target on the lifecycle
// (cancelled counts as past everything).
func Reached(s, target wire.OrderStatus) bool { return rank(s) >= rank(target) }

// Apply applies one validated event. It returns the order it changed, nil
// when the event changes nothing (a repeat, a device status, a late event for
// a closed order), or a *Refusal. Apply is idempotent per order: the same
// event twice changes nothing the second time.
func (k *Kitchen) Apply(e *wire.Event) (*Change, error) {
	if e.Store != k.Store {
		return nil, &Refusal{ReasonStore, "event for store " + e.Store}
	}
	if id := e.OrderID(); id != "" && k.Closed != nil && k.Orders[id] == nil && k.Closed(id) {
		return nil, nil
	}
	ch, err := k.apply(e)
	if ch != nil {
		k.track(ch.Order)
	}
	return ch, err
}

func (k *Kitchen) apply(e *wire.Event) (*Change, error) {
	switch e.Kind {
	case wire.EventTicket:
		return k.ticket(e.Ticket, e), nil
	case wire.EventUnparsed:
		return nil, &Refusal{ReasonUnparsed, "ticket without an order id"}
	case wire.EventKey:
		return k.key(e)
	case wire.EventWeight:
		return k.weight(e)
	case wire.EventPOS:
		return k.pos(e), nil
	case wire.EventScan:
		return k.scan(e)
	}
	return nil, nil // device status: no order changes
}

// ticket creates an order, or completes a placeholder made by an earlier event.
func (k *Kitchen) ticket(t *wire.Ticket, e *wire.Event) *Change {
	o := k.Orders[t.OrderID]
	if o != nil && o.TicketSeen {
		return nil
	}
	from := wire.OrderStatus("")
	if o == nil {
		o = &Order{Store: k.Store, ID: t.OrderID, Status: wire.StatusAccepted}
		k.Orders[o.ID] = o
	} else {
		from = o.Status
	}
	o.TicketSeen = true
	o.ShortCode, o.Channel, o.Items, o.Subtotal = t.ShortCode, t.Channel, t.Items, t.Subtotal
	o.Station = mainStation(t.Items)
	if t.PromisedAt != nil {
		o.PromisedAt = *t.PromisedAt
	}
	o.AcceptedAt = e.At
	o.TraceID, o.Traceparent = e.TraceID, e.Traceparent
	o.Load = k.loadExcept(o.ID)
	if k.AutoStart && o.Status == wire.StatusAccepted {
		o.Status, o.StartedAt = wire.StatusStarted, e.At
	}
	return &Change{Order: o, From: from}
}

// Load is the kitchen load now: orders and items in preparation.
func (k *Kitchen) Load() Load { return k.load }

// loadExcept is the load not counting order id.
func (k *Kitchen) loadExcept(id string) Load {
	l := k.load
	if n, ok := k.prep[id]; ok {
		l.OpenOrders--
		l.OpenItems -= n
	}
	return l
}

// mainStation is the station with the most items on the ticket.
func mainStation(items []Item) string {
	qty := map[string]int{}
	best := ""
	for _, it := range items {
		qty[it.Station] += it.Qty
		if it.Station != "" && (best == "" || qty[it.Station] > qty[best]) {
			best = it.Station
		}
	}
	return best
}

// Item is a ticket line, as on the wire.
type Item = wire.Item

// Queue returns the station's open orders still in preparation (accepted or
// started), oldest first; station "" is the whole kitchen.
func (k *Kitchen) Queue(station string) []*Order {
	var q []*Order
	for _, o := range k.Orders {
		if o.TicketSeen && rank(o.Status) < rank(wire.StatusDone) && (station == "" || o.Station == station) {
			q = append(q, o)
		}
	}
	sort.Slice(q, func(i, j int) bool {
		if !q[i].AcceptedAt.Equal(q[j].AcceptedAt) {
			return q[i].AcceptedAt.Before(q[j].AcceptedAt)
		}
		return q[i].ID < q[j].ID
	})
	return q
}

// placeholder returns the order id, creating a ticketless placeholder.
func (k *Kitchen) placeholder(id string, e *wire.Event) (*Order, wire.OrderStatus) {
	if o := k.Orders[id]; o != nil {
		return o, o.Status
	}
	o := &Order{Store: k.Store, ID: id, Status: wire.StatusAccepted, TraceID: e.TraceID, Traceparent: e.Traceparent}
	k.Orders[id] = o
	return o, ""
}

// advance moves o forward to status s at time at, filling the timestamps of
// any skipped step. It reports whether anything changed; it never moves an
// order back and never reopens a cancelled one.
func advance(o *Order, s wire.OrderStatus, at time.Time) bool {
	if o.Status == wire.StatusCancelled || rank(o.Status) >= rank(s) && s != wire.StatusCancelled {
		return false
	}
	if s != wire.StatusCancelled {
		set := func(target wire.OrderStatus, ts *time.Time) {
			if rank(s) >= rank(target) && ts.IsZero() {
				*ts = at
			}
		}
		set(wire.StatusStarted, &o.StartedAt)
		set(wire.StatusDone, &o.DoneAt)
		set(wire.StatusPacked, &o.PackedAt)
		set(wire.StatusPickedUp, &o.PickedUpAt)
	} else {
		o.CancelledAt = at
	}
	o.Status = s
	return true
}

// change records a status move of o from "from" as a Change.
func (k *Kitchen) change(o *Order, from wire.OrderStatus) *Change {
	c := &Change{Order: o, From: from}
	if !o.Open() {
		c.Closed = true
		delete(k.Orders, o.ID)
		for st, id := range k.Selected {
			if id == o.ID {
				delete(k.Selected, st)
			}
		}
	}
	return c
}
