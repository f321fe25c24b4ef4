package rules_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/rules"
	"github.com/passline/passline/wire"
)

// TestQueueSendsReadySoonInSwampedKitchen: a kitchen of two cooks at one
// line its tickets name, first in first out, whose one dish takes 6 minutes, gets an order every 2.5
// minutes, so orders wait longer and longer for a cook and their prep
// times say little about when one is ready. Its service times say
// everything: after its first bumps the kitchen queue tells the rider of
// nearly every order "ready soon" within his 2 minutes of travel, and it
// is right. The same holds in a kitchen of two stations named on the
// tickets, a swamped wok of one cook (6 min a dish) and an idle cold
// station (2 min), each order at one of them: each station has its queue.
// Orders cancelled or bumped leave the queue.
func TestQueueSendsReadySoonInSwampedKitchen(t *testing.T) {
	oneLine := func(int) (string, string, time.Duration, int) { return "line", "soup", 6 * time.Minute, 2 }
	twoStations := func(i int) (string, string, time.Duration, int) {
		if i%2 == 0 {
			return "wok", "noodles", 6 * time.Minute, 1
		}
		return "cold", "salad", 2 * time.Minute, 1
	}
	for name, kitchen := range map[string]func(int) (station, sku string, service time.Duration, cooks int){
		"one line": oneLine, "two stations": twoStations} {
		t.Run(name, func(t *testing.T) { testQueueKitchen(t, kitchen) })
	}
}

// testQueueKitchen runs 60 orders, one every 2.5 min, through kitchen:
// order i is cooked at its station by the first free of its cooks.
func testQueueKitchen(t *testing.T, kitchen func(i int) (station, sku string, service time.Duration, cooks int)) {
	e, err := rules.New(agent.DefaultParams(), nil)
	if err != nil {
		t.Fatal(err)
	}
	const n, lead = 60, 2 * time.Minute
	start := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	free := map[string][]time.Time{} // per station, when each cook is next free
	type order struct {
		o         *agent.Order
		done      time.Time
		readySoon time.Time
	}
	var orders []*order
	for i := 0; i < n; i++ {
		at := start.Add(time.Duration(i) * 150 * time.Second)
		station, sku, service, ncooks := kitchen(i)
		if free[station] == nil {
			free[station] = make([]time.Time, ncooks)
		}
		cooks := free[station]
		c := 0
		for j := range cooks {
			if cooks[j].Before(cooks[c]) {
				c = j
			}
		}
		begin := at
		if cooks[c].After(at) {
			begin = cooks[c]
		}
		cooks[c] = begin.Add(service)
		o := &agent.Order{Store: "s", ID: fmt.Sprint("o", i), Status: wire.StatusStarted, TicketSeen: true, Station: station,
			AcceptedAt: at, StartedAt: at, Items: []wire.Item{{SKU: sku, Qty: 1, Station: station}}, LeadTime: lead}
		orders = append(orders, &order{o: o, done: cooks[c]})
	}
	cancelled := &agent.Order{Store: "s", ID: "cancelled", Status: wire.StatusStarted, TicketSeen: true,
		AcceptedAt: start.Add(30 * time.Second), StartedAt: start.Add(30 * time.Second), Items: []wire.Item{{SKU: "soup", Qty: 1}}}
	seq := 0
	event := func(kind wire.EventKind, at time.Time) *wire.Event {
		seq++
		return &wire.Event{ID: fmt.Sprint("e", seq), Kind: kind, At: at}
	}
	next := 0
	for now := start; next < n || e.QueueLen() > 0; now = now.Add(30 * time.Second) {
		if now.Sub(start) > 10*time.Hour {
			t.Fatalf("%d orders still in the queue after 10 h", e.QueueLen())
		}
		if now.Equal(cancelled.AcceptedAt) {
			e.Decide(cancelled, agent.Trigger{Now: now, Event: event(wire.EventTicket, now)})
		}
		if now.Equal(cancelled.AcceptedAt.Add(30 * time.Second)) {
			cancelled.Status = wire.StatusCancelled
			e.Decide(cancelled, agent.Trigger{Now: now, Event: event(wire.EventPOS, now), From: wire.StatusStarted})
		}
		for ; next < n && !orders[next].o.AcceptedAt.After(now); next++ {
			o := orders[next]
			e.Decide(o.o, agent.Trigger{Now: o.o.AcceptedAt, Event: event(wire.EventTicket, o.o.AcceptedAt)})
		}
		for _, o := range orders[:next] {
			if o.o.Status == wire.StatusDone {
				continue
			}
			trig := agent.Trigger{Now: now}
			if !o.done.After(now) {
				o.o.Status, o.o.DoneAt = wire.StatusDone, o.done
				trig = agent.Trigger{Now: o.done, Event: event(wire.EventKey, o.done), From: wire.StatusStarted}
			}
			for _, d := range e.Decide(o.o, trig) {
				if d.Kind == wire.KindReadySoon {
					o.readySoon = trig.Now
				}
			}
		}
	}
	sent, hits, slowest := 0, 0, time.Duration(0)
	for _, o := range orders[n/2:] {
		slowest = max(slowest, o.done.Sub(o.o.AcceptedAt))
		if o.readySoon.IsZero() || !o.readySoon.Before(o.done) {
			continue
		}
		sent++
		if !o.done.After(o.readySoon.Add(lead)) {
			hits++
		}
	}
	t.Logf("orders %d-%d (prep up to %s): %d ready_soon, %d ready within %s", n/2, n-1, slowest, sent, hits, lead)
	if sent < n/2*3/4 || hits < sent*9/10 {
		t.Errorf("%d of %d orders told ready_soon, %d of them ready in time; want 3 in 4 told and 9 in 10 right", sent, n/2, hits)
	}
	if q := e.QueueLen(); q != 0 {
		t.Errorf("%d orders left in the kitchen queue after every order was bumped or cancelled", q)
	}
}
