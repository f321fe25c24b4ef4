package agent_test

import (
	"errors"
	"testing"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/wire"
)

var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

type step struct {
	ev wire.Event
	// want is the order's status afterwards; "" means the event changes nothing.
	order  string
	want   wire.OrderStatus
	refuse string // reason when the event must be refused
	closed bool
}

func ticket(id, order, station string, sec int) wire.Event {
	return wire.Event{ID: id, Kind: wire.EventTicket, Store: "s1", At: t0.Add(time.Duration(sec) * time.Second),
		Ticket: &wire.Ticket{OrderID: order, Subtotal: 18.5, Items: []wire.Item{{SKU: "a", Qty: 1, Station: station}, {SKU: "b", Qty: 2, Station: station}}}}
}

func key(id string, k wire.Key, sec int) wire.Event {
	return wire.Event{ID: id, Kind: wire.EventKey, Store: "s1", At: t0.Add(time.Duration(sec) * time.Second), Key: &k}
}

func weight(id, order string, sec int) wire.Event {
	return wire.Event{ID: id, Kind: wire.EventWeight, Store: "s1", At: t0.Add(time.Duration(sec) * time.Second),
		Weight: &wire.Weight{Grams: 500, Stable: true, OrderID: order}}
}

func pos(id, order string, s wire.OrderStatus, sec int) wire.Event {
	return wire.Event{ID: id, Kind: wire.EventPOS, Store: "s1", At: t0.Add(time.Duration(sec) * time.Second),
		POS: &wire.POSStatus{OrderID: order, Status: s}}
}

func TestKitchenLifecycle(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"ticket, start, bump, pack, pickup", []step{
			{ev: ticket("1", "o1", "grill", 0), order: "o1", want: wire.StatusAccepted},
			{ev: key("2", wire.Key{Action: wire.KeyStart, Station: "grill"}, 10), order: "o1", want: wire.StatusStarted},
			{ev: key("3", wire.Key{Action: wire.KeyBump, Station: "grill"}, 20), order: "o1", want: wire.StatusDone},
			{ev: weight("4", "", 30), order: "o1", want: wire.StatusPacked},
			{ev: pos("5", "o1", wire.StatusPickedUp, 40), order: "o1", want: wire.StatusPickedUp, closed: true},
		}},
		{"same ticket twice changes nothing", []step{
			{ev: ticket("1", "o1", "grill", 0), order: "o1", want: wire.StatusAccepted},
			{ev: ticket("1b", "o1", "grill", 5)},
		}},
		{"bump before ticket, then ticket", []step{
			{ev: key("1", wire.Key{Action: wire.KeyBump, OrderID: "o1"}, 0), order: "o1", want: wire.StatusDone},
			{ev: ticket("2", "o1", "grill", 5), order: "o1", want: wire.StatusDone},
			{ev: key("3", wire.Key{Action: wire.KeyBump, OrderID: "o1"}, 6)},
		}},
		{"weight before bump packs and finishes", []step{
			{ev: ticket("1", "o1", "grill", 0), order: "o1", want: wire.StatusAccepted},
			{ev: weight("2", "o1", 5), order: "o1", want: wire.StatusPacked},
			{ev: key("3", wire.Key{Action: wire.KeyBump, OrderID: "o1"}, 6)},
		}},
		{"bump acts on the oldest order at the station", []step{
			{ev: ticket("1", "o1", "grill", 0), order: "o1", want: wire.StatusAccepted},
			{ev: ticket("2", "o2", "fryer", 1), order: "o2", want: wire.StatusAccepted},
			{ev: ticket("3", "o3", "grill", 2), order: "o3", want: wire.StatusAccepted},
			{ev: key("4", wire.Key{Action: wire.KeyBump, Station: "grill"}, 3), order: "o1", want: wire.StatusDone},
			{ev: key("5", wire.Key{Action: wire.KeyBump, Station: "grill"}, 4), order: "o3", want: wire.StatusDone},
			{ev: key("6", wire.Key{Action: wire.KeyBump, Station: "grill"}, 5), refuse: agent.ReasonUnknownOrder},
		}},
		{"select a position, then bump it; recall reopens it", []step{
			{ev: ticket("1", "o1", "grill", 0), order: "o1", want: wire.StatusAccepted},
			{ev: ticket("2", "o2", "grill", 1), order: "o2", want: wire.StatusAccepted},
			{ev: key("3", wire.Key{Action: wire.KeySelect, Station: "grill", Position: 2}, 2), order: "o2", want: wire.StatusAccepted},
			{ev: key("4", wire.Key{Action: wire.KeyBump, Station: "grill"}, 3), order: "o2", want: wire.StatusDone},
			{ev: key("5", wire.Key{Action: wire.KeyRecall, Station: "grill"}, 4), order: "o2", want: wire.StatusStarted},
			{ev: key("6", wire.Key{Action: wire.KeyBump, Station: "grill"}, 5), order: "o1", want: wire.StatusDone},
			{ev: key("7", wire.Key{Action: wire.KeySelect, Station: "grill", Position: 5}, 6), refuse: agent.ReasonUnknownOrder},
		}},
		{"cancel from any open state, once", []step{
			{ev: ticket("1", "o1", "grill", 0), order: "o1", want: wire.StatusAccepted},
			{ev: key("2", wire.Key{Action: wire.KeyBump, OrderID: "o1"}, 1), order: "o1", want: wire.StatusDone},
			{ev: pos("3", "o1", wire.StatusCancelled, 2), order: "o1", want: wire.StatusCancelled, closed: true},
			{ev: pos("4", "o1", wire.StatusCancelled, 3)},
			{ev: key("5", wire.Key{Action: wire.KeyBump, OrderID: "o1"}, 4)},
		}},
		{"a scanned order id makes the order ready, once", []step{
			{ev: ticket("1", "o1", "grill", 0), order: "o1", want: wire.StatusAccepted},
			{ev: ticket("2", "o2", "grill", 1), order: "o2", want: wire.StatusAccepted},
			{ev: scan("3", "o2", 90), order: "o2", want: wire.StatusDone},
			{ev: scan("4", "o2", 95)},
			{ev: key("5", wire.Key{Action: wire.KeyBump, Station: "grill"}, 96), order: "o1", want: wire.StatusDone},
		}},
		{"a scanned pickup number, with or without #, names its order", []step{
			{ev: shortTicket("1", "o1", "#23", 0), order: "o1", want: wire.StatusAccepted},
			{ev: shortTicket("2", "o2", "#24", 1), order: "o2", want: wire.StatusAccepted},
			{ev: scan("3", "24", 90), order: "o2", want: wire.StatusDone},
			{ev: scan("4", "#23", 91), order: "o1", want: wire.StatusDone},
		}},
		{"a shared pickup number means the order still cooking; else it is refused", []step{
			{ev: shortTicket("1", "o1", "#7", 0), order: "o1", want: wire.StatusAccepted},
			{ev: shortTicket("2", "o2", "#7", 1), order: "o2", want: wire.StatusAccepted},
			{ev: scan("3", "#7", 5), refuse: agent.ReasonUnknownCode},
			{ev: key("4", wire.Key{Action: wire.KeyBump, OrderID: "o1"}, 6), order: "o1", want: wire.StatusDone},
			{ev: scan("5", "#7", 90), order: "o2", want: wire.StatusDone},
		}},
		{"an unknown code moves no order; a closed order's code changes nothing", []step{
			{ev: ticket("1", "o1", "grill", 0), order: "o1", want: wire.StatusAccepted},
			{ev: scan("2", "o9", 5), refuse: agent.ReasonUnknownCode},
			{ev: scan("3", "https://example.com/?o=o1", 6), refuse: agent.ReasonUnknownCode},
			{ev: pos("4", "o1", wire.StatusPickedUp, 7), order: "o1", want: wire.StatusPickedUp, closed: true},
			{ev: scan("5", "o1", 8)},
		}},
		{"recall within the window reopens; after it, it is refused", []step{
			{ev: ticket("1", "o1", "grill", 0), order: "o1", want: wire.StatusAccepted},
			{ev: key("2", wire.Key{Action: wire.KeyBump, Station: "grill"}, 100), order: "o1", want: wire.StatusDone},
			{ev: key("3", wire.Key{Action: wire.KeyRecall, Station: "grill"}, 219), order: "o1", want: wire.StatusStarted},
			{ev: key("4", wire.Key{Action: wire.KeyBump, Station: "grill"}, 300), order: "o1", want: wire.StatusDone},
			{ev: key("5", wire.Key{Action: wire.KeyRecall, Station: "grill"}, 421), refuse: agent.ReasonRecallWindow},
			{ev: key("6", wire.Key{Action: wire.KeyRecall, OrderID: "o1"}, 422), refuse: agent.ReasonRecallWindow},
		}},
		{"a scanned order can be recalled by id within the window", []step{
			{ev: ticket("1", "o1", "grill", 0), order: "o1", want: wire.StatusAccepted},
			{ev: scan("2", "o1", 100), order: "o1", want: wire.StatusDone},
			{ev: key("3", wire.Key{Action: wire.KeyRecall, OrderID: "o1"}, 110), order: "o1", want: wire.StatusStarted},
			{ev: scan("4", "o1", 150), order: "o1", want: wire.StatusDone},
		}},
		{"unparsed ticket and empty recall are refused", []step{
			{ev: wire.Event{ID: "1", Kind: wire.EventUnparsed, Store: "s1", At: t0, Ticket: &wire.Ticket{Raw: "??"}}, refuse: agent.ReasonUnparsed},
			{ev: key("2", wire.Key{Action: wire.KeyRecall}, 1), refuse: agent.ReasonUnknownOrder},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := agent.NewKitchen("s1")
			k.RecallWindow = 2 * time.Minute
			history := map[string]bool{}
			k.Closed = func(id string) bool { return history[id] }
			for i, s := range tt.steps {
				ev := s.ev
				ch, err := k.Apply(&ev)
				var ref *agent.Refusal
				switch {
				case s.refuse != "":
					if !errors.As(err, &ref) || ref.Reason != s.refuse {
						t.Fatalf("step %d: err = %v, want refusal %s", i, err, s.refuse)
					}
				case err != nil:
					t.Fatalf("step %d: %v", i, err)
				case s.want == "":
					if ch != nil {
						t.Fatalf("step %d: changed %s to %s, want no change", i, ch.Order.ID, ch.Order.Status)
					}
				case ch == nil:
					t.Fatalf("step %d: no change, want %s %s", i, s.order, s.want)
				case ch.Order.ID != s.order || ch.Order.Status != s.want || ch.Closed != s.closed:
					t.Fatalf("step %d: %s is %s (closed %v), want %s %s (closed %v)", i, ch.Order.ID, ch.Order.Status, ch.Closed, s.order, s.want, s.closed)
				}
				if ch != nil && ch.Closed {
					history[ch.Order.ID] = true
				}
				if got, want := k.Load(), bruteLoad(k); got != want {
					t.Fatalf("step %d: incremental load %+v, recount %+v", i, got, want)
				}
			}
		})
	}
}

func scan(id, code string, sec int) wire.Event {
	return wire.Event{ID: id, Kind: wire.EventScan, Store: "s1", At: t0.Add(time.Duration(sec) * time.Second), Scan: &wire.Scan{Code: code}}
}

func shortTicket(id, order, short string, sec int) wire.Event {
	ev := ticket(id, order, "grill", sec)
	ev.Ticket.ShortCode = short
	return ev
}

// TestMarkFlagsTheOrderBumpWouldFinish: mark toggles the flag of the
// selected (else oldest) order without moving it or its selection, and a
// mark naming a closed or unknown order is refused.
func TestMarkFlagsTheOrderBumpWouldFinish(t *testing.T) {
	k := agent.NewKitchen("s1")
	apply := func(ev wire.Event) (*agent.Change, error) {
		t.Helper()
		return k.Apply(&ev)
	}
	for i, o := range []string{"o1", "o2"} {
		if _, err := apply(ticket(o, o, "grill", i)); err != nil {
			t.Fatal(err)
		}
	}
	ch, err := apply(key("m1", wire.Key{Action: wire.KeyMark, Station: "grill"}, 5))
	if err != nil || ch == nil || ch.Order.ID != "o1" || !ch.Order.Marked || ch.From != wire.StatusAccepted || ch.Order.Status != wire.StatusAccepted {
		t.Fatalf("mark with nothing selected: %+v %v", ch, err)
	}
	if _, err := apply(key("s2", wire.Key{Action: wire.KeySelect, Station: "grill", Position: 2}, 6)); err != nil {
		t.Fatal(err)
	}
	if ch, err := apply(key("m2", wire.Key{Action: wire.KeyMark, Station: "grill"}, 7)); err != nil || ch.Order.ID != "o2" || !ch.Order.Marked {
		t.Fatalf("mark of the selected order: %+v %v", ch, err)
	}
	if ch, err := apply(key("b3", wire.Key{Action: wire.KeyBump, Station: "grill"}, 8)); err != nil || ch.Order.ID != "o2" {
		t.Fatalf("bump after mark finished %+v %v, want the selected o2", ch, err)
	}
	if ch, err := apply(key("m4", wire.Key{Action: wire.KeyMark, OrderID: "o1"}, 9)); err != nil || ch.Order.Marked {
		t.Fatalf("second mark of o1 did not clear it: %+v %v", ch, err)
	}
	var ref *agent.Refusal
	if _, err := apply(key("m5", wire.Key{Action: wire.KeyMark, OrderID: "o9"}, 10)); !errors.As(err, &ref) || ref.Reason != agent.ReasonUnknownOrder {
		t.Fatalf("mark of an unknown order: %v", err)
	}
	if _, ok := k.Orders["o9"]; ok {
		t.Fatal("mark of an unknown order made a placeholder")
	}
}

func TestKitchenTimestampsAndLoad(t *testing.T) {
	k := agent.NewKitchen("s1")
	for i, o := range []string{"o1", "o2"} {
		ev := ticket(o, o, "grill", i)
		if _, err := k.Apply(&ev); err != nil {
			t.Fatal(err)
		}
	}
	o2 := k.Orders["o2"]
	if o2.Load.OpenOrders != 1 || o2.Load.OpenItems != 3 || o2.Station != "grill" || o2.Subtotal != 18.5 {
		t.Errorf("o2 load %+v station %q subtotal %v", o2.Load, o2.Station, o2.Subtotal)
	}
	ev := weight("w", "o1", 60)
	if _, err := k.Apply(&ev); err != nil {
		t.Fatal(err)
	}
	o1 := k.Orders["o1"]
	if !o1.StartedAt.Equal(t0.Add(time.Minute)) || !o1.DoneAt.Equal(o1.PackedAt) {
		t.Errorf("skipped steps not stamped: %+v", o1)
	}
}

func TestBasicDecider(t *testing.T) {
	k := agent.NewKitchen("s1")
	d := agent.BasicDecider{}
	apply := func(ev wire.Event) []wire.Decision {
		t.Helper()
		ch, err := k.Apply(&ev)
		if err != nil || ch == nil {
			t.Fatalf("apply %s: %v %v", ev.ID, ch, err)
		}
		return d.Decide(ch.Order, agent.Trigger{Now: ev.At, Event: &ev, From: ch.From})
	}
	if ds := apply(ticket("t1", "o1", "grill", 0)); len(ds) != 0 {
		t.Fatalf("ticket decided %v", ds)
	}
	ds := apply(key("b1", wire.Key{Action: wire.KeyBump, OrderID: "o1"}, 30))
	if len(ds) != 1 || ds[0].Kind != wire.KindReady || ds[0].ID != "s1.o1.ready.1" || ds[0].EventID != "b1" ||
		len(ds[0].Flags) != 1 || ds[0].Flags[0] != wire.FlagEarlyReady {
		t.Fatalf("bump 30 s after accept decided %+v", ds)
	}
	if err := ds[0].Validate(); err != nil {
		t.Errorf("decision invalid: %v", err)
	}
	apply(key("r1", wire.Key{Action: wire.KeyRecall}, 40))
	if ds := apply(key("b2", wire.Key{Action: wire.KeyBump, OrderID: "o1"}, 90)); len(ds) != 0 {
		t.Errorf("second bump after recall told the rider again: %v", ds)
	}
	ds = apply(pos("c1", "o1", wire.StatusCancelled, 100))
	if len(ds) != 1 || ds[0].Kind != wire.KindCancelled || ds[0].ID != "s1.o1.cancelled.2" {
		t.Errorf("cancel decided %+v", ds)
	}
	if got := d.Decide(&agent.Order{Store: "s1", ID: "x", Status: wire.StatusDone}, agent.Trigger{Now: t0}); got != nil {
		t.Errorf("timer tick decided %v", got)
	}
}

func TestExpireClosesStaleAndOrphans(t *testing.T) {
	k := agent.NewKitchen("s1")
	for _, ev := range []wire.Event{ticket("1", "o1", "grill", 0), key("2", wire.Key{Action: wire.KeyBump, OrderID: "o1"}, 10),
		key("3", wire.Key{Action: wire.KeyBump, OrderID: "ghost"}, 10), ticket("4", "o2", "grill", 20)} {
		if _, err := k.Apply(&ev); err != nil {
			t.Fatal(err)
		}
	}
	out := k.Expire(t0.Add(2*time.Hour), time.Hour, time.Hour)
	got := map[string]bool{}
	for _, c := range out {
		got[c.Order.ID] = c.Closed
	}
	if len(out) != 2 || !got["o1"] || !got["ghost"] || k.Orders["o2"] == nil || len(k.Orders) != 1 {
		t.Errorf("expired %v, left %d open", got, len(k.Orders))
	}
	rec := agent.NewHistoryRecord(&agent.Order{Store: "s1", ID: "o1", AcceptedAt: t0, DoneAt: t0.Add(5 * time.Minute),
		Items: []wire.Item{{SKU: "a", Qty: 2}, {SKU: "b", Qty: 1}}}, t0.Add(time.Hour))
	if rec.Items != 3 || rec.Distinct != 2 || len(rec.SKUs) != 3 || rec.PrepSeconds != 300 {
		t.Errorf("history record %+v", rec)
	}
}

// bruteLoad recounts the orders and items in preparation.
func bruteLoad(k *agent.Kitchen) agent.Load {
	var l agent.Load
	for _, o := range k.Orders {
		if o.TicketSeen && !agent.Reached(o.Status, wire.StatusDone) {
			l.OpenOrders++
			l.OpenItems += o.ItemCount()
		}
	}
	return l
}
