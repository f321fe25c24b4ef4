package browser_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/passline/passline/wire"
)

// within is how soon a kitchen event must show on a page.
const within = 2 * time.Second

func orderIn(section, order string) string {
	return fmt.Sprintf(`document.querySelector('[data-section=%q] [data-order=%q]')`, section, order)
}

// TestPassBoardShowsNewOrderAndBump opens the agent's pass board, prints a
// ticket and requires the order on its station within 2 s; then bumps it
// and requires it under "ready for pickup" (and gone from the station)
// within 2 s.
func TestPassBoardShowsNewOrderAndBump(t *testing.T) {
	b := startBrowser(t)
	s := startSystem(t)
	// A kitchen with some work in it, for a realistic screenshot.
	s.ticket(t, "o-1001", "#41", "wok", wire.Item{SKU: "noodles", Qty: 2, Station: "wok"}, wire.Item{SKU: "rice", Qty: 1, Station: "wok"})
	s.ticket(t, "o-1002", "#42", "grill", wire.Item{SKU: "skewers", Qty: 6, Station: "grill"})
	s.ticket(t, "o-1003", "#43", "cold", wire.Item{SKU: "salad", Qty: 1, Station: "cold"})
	s.ticket(t, "o-1004", "#44", "grill", wire.Item{SKU: "burger", Qty: 2, Station: "grill"})
	s.bump(t, "o-1003", "cold")
	s.status(t, wire.DeviceBridge, "bridge", true, "")
	s.status(t, wire.DevicePrinter, "printer-1", true, "")
	s.status(t, wire.DeviceScale, "scale-1", false, "no reading for 30 s")

	p := b.open("http://" + s.agent.HTTPAddr() + "/board/")
	p.viewport(1280, 800, false)
	p.waitFor(10*time.Second, "the live board", `document.getElementById('board').dataset.state === 'live' && `+orderIn("station", "o-1004"))
	p.waitFor(10*time.Second, "device health", `document.querySelector('[data-device="scale-1"]').classList.contains('down') && document.querySelector('[data-device="bridge"]').classList.contains('up')`)

	order := "o-" + uniqueID("")[1:9]
	s.ticket(t, order, "#57", "wok", wire.Item{SKU: "noodles", Name: "Beef noodles", Qty: 1, Station: "wok"})
	took := p.waitFor(within, "the new order on the wok station", orderIn("station", order))
	t.Logf("new order on the board %s after the ticket was acked by the broker", took.Round(time.Millisecond))
	if got := string(p.eval(orderIn("station", order) + `.closest('[data-station]').dataset.station`)); got != `"wok"` {
		t.Errorf("order shown on station %s, want wok", got)
	}
	p.screenshot("passboard-new-order")

	s.bump(t, order, "wok")
	took = p.waitFor(within, "the bumped order under ready for pickup", orderIn("ready", order)+` && !`+orderIn("station", order))
	t.Logf("bumped order moved %s after the bump was acked by the broker", took.Round(time.Millisecond))
	p.screenshot("passboard-bumped")
}

// TestRiderPageShowsNotification opens a rider's page, assigns the rider
// an order, prints and bumps it, and requires the ready notification on
// the page within 2 s of the agent's ready decision reaching NATS.
func TestRiderPageShowsNotification(t *testing.T) {
	b := startBrowser(t)
	s := startSystem(t)
	rider, order := uniqueID("rider"), "o-"+uniqueID("")[1:9]
	decided := make(chan time.Time, 16)
	sub, err := s.nc.Subscribe(wire.DecisionSubject(s.store), func(m *nats.Msg) {
		if d, err := wire.DecodeDecision(m.Data); err == nil && d.Kind == wire.KindReady && d.OrderID == order {
			decided <- time.Now()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := s.nc.Flush(); err != nil {
		t.Fatal(err)
	}

	p := b.open("http://" + s.cloud.HTTPAddr() + "/riders/" + rider + "/")
	p.viewport(412, 780, true)
	p.waitFor(10*time.Second, "the live rider page", `document.getElementById('live').classList.contains('on')`)

	s.assign(t, order, rider)
	s.ticket(t, order, "#23", "wok")
	s.bump(t, order, "wok")
	var at time.Time
	select {
	case at = <-decided:
	case <-time.After(20 * time.Second):
		t.Fatal("no ready decision on NATS within 20s of the bump")
	}
	sel := fmt.Sprintf(`document.querySelector('.note[data-kind="ready"][data-order=%q]')`, order)
	p.waitFor(within-time.Since(at), "the ready notification", sel)
	t.Logf("ready notification on the rider page %s after the decision reached NATS", time.Since(at).Round(time.Millisecond))
	if text := string(p.eval(sel + `.querySelector('.text').textContent`)); len(text) < 5 {
		t.Errorf("notification text %s", text)
	}
	// The card's version is the agent's per-order decision sequence,
	// carried from the agent's outbox through the relay.
	if v := string(p.eval(sel + `.dataset.version`)); v == `"0"` || v == `""` || v == "null" {
		t.Errorf("ready card from the real agent has version %s, want the decision's seq", v)
	}
	p.screenshot("rider-page")
}

// TestOpsPageShowsStoresAndDeliveries pushes an order to its rider, then
// opens the operations page and requires the store online and the rider
// channel's successful delivery.
func TestOpsPageShowsStoresAndDeliveries(t *testing.T) {
	b := startBrowser(t)
	s := startSystem(t)
	rider, order := uniqueID("rider"), "o-"+uniqueID("")[1:9]
	s.assign(t, order, rider)
	s.ticket(t, order, "#31", "wok")
	s.bump(t, order, "wok")

	p := b.open("http://" + s.cloud.HTTPAddr() + "/ops/")
	p.viewport(1280, 800, false)
	p.waitFor(20*time.Second, "the store online", `document.getElementById('stores-online').textContent === '1'`)
	p.waitFor(20*time.Second, "a successful rider delivery",
		`[...document.querySelectorAll('#deliveries tr')].some(r => r.cells[0].textContent === 'rider' && r.cells[1].textContent === 'ok')`)
	p.waitFor(10*time.Second, "the store in the stores table",
		fmt.Sprintf(`[...document.querySelectorAll('#stores tr')].some(r => r.cells[0].textContent === %q && r.cells[1].textContent === 'ok')`, s.store))
	p.screenshot("ops-page")
}

// TestPassBoardShowsUplinkDown stops the relay (and its NATS server) under
// a running agent: the board must show the NATS link down and decisions
// waiting in the outbox, while new orders still appear.
func TestPassBoardShowsUplinkDown(t *testing.T) {
	b := startBrowser(t)
	s := startSystem(t)
	p := b.open("http://" + s.agent.HTTPAddr() + "/board/")
	p.viewport(1280, 800, false)
	p.waitFor(10*time.Second, "the live board with NATS up", `document.querySelector('[data-link="nats"]').classList.contains('up')`)
	if err := s.cloud.Close(); err != nil {
		t.Fatal(err)
	}
	p.waitFor(10*time.Second, "the NATS link down", `document.querySelector('[data-link="nats"]').classList.contains('down')`)
	order := "o-" + uniqueID("")[1:9]
	s.ticket(t, order, "#88", "fryer", wire.Item{SKU: "fries", Qty: 2, Station: "fryer"})
	p.waitFor(within, "the new order while offline", orderIn("station", order))
	s.bump(t, order, "fryer")
	p.waitFor(within, "the bumped order while offline", orderIn("ready", order))
	p.waitFor(10*time.Second, "decisions waiting in the outbox", `document.getElementById('outbox').textContent !== 'outbox 0'`)
	p.waitFor(within, "the ready decision shown as not sent yet", orderIn("ready", order)+`.querySelector('.chip.queued[data-kind="ready"]')`)
	p.screenshot("passboard-offline")
}
