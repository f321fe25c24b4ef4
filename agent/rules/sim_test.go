package rules_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/rules"
	"github.com/passline/passline/wire"
)

// simOrder is one order of the virtual kitchen and what happened to it.
type simOrder struct {
	o         *agent.Order
	accept    time.Time
	done      time.Time
	travel    time.Duration
	readySoon time.Time // first ready_soon decision; zero if none
	readyMsg  time.Time // the ready decision
	bumped    bool
}

// virtualKitchen queues orders FIFO behind cooks: an order's prep is its
// wait for a free cook plus the sum of its items' cook times, so it
// depends on the dish mix and on how busy the kitchen is. Arrivals follow
// lunch and dinner peaks; 2% of orders are forgotten for a while.
type virtualKitchen struct {
	rng   *rand.Rand
	cooks []time.Time // when each cook is next free
	skus  []float64   // mean cook seconds per SKU
	pace  float64     // arrivals are rate(t) times pace
}

// rate is the kitchen's orders per minute at t.
func (k *virtualKitchen) rate(t time.Time) float64 { return rate(t) * k.pace }

func newVirtualKitchen(seed uint64) *virtualKitchen {
	return newKitchenOf(seed, 3, 1)
}

// newKitchenOf is a virtual kitchen with cooks cooks whose dishes take
// speed times the usual cook time, and whose orders come 1/speed as often
// (a slow kitchen is not a swamped one).
func newKitchenOf(seed uint64, cooks int, speed float64) *virtualKitchen {
	k := &virtualKitchen{rng: rand.New(rand.NewPCG(seed, 99)), cooks: make([]time.Time, cooks), pace: 1 / speed}
	for i := 0; i < 12; i++ {
		k.skus = append(k.skus, speed*(40+float64(i)*15))
	}
	return k
}

// rate is orders per minute at t: peaks at 12:30 and 19:00.
func rate(t time.Time) float64 {
	h := float64(t.Hour()) + float64(t.Minute())/60
	return 0.15 + 0.55*math.Exp(-(h-12.5)*(h-12.5)/1.5) + 0.5*math.Exp(-(h-19)*(h-19)/2)
}

func (k *virtualKitchen) order(id int, at time.Time) *simOrder {
	n := 1 + k.rng.IntN(3)
	var items []wire.Item
	service := 0.0
	for i := 0; i < n; i++ {
		s := k.rng.IntN(len(k.skus))
		items = append(items, wire.Item{SKU: fmt.Sprint("sku", s), Qty: 1, Station: "line"})
		service += k.skus[s] * math.Exp(0.25*k.rng.NormFloat64())
	}
	sort.Slice(k.cooks, func(a, b int) bool { return k.cooks[a].Before(k.cooks[b]) })
	start := at
	if k.cooks[0].After(at) {
		start = k.cooks[0]
	}
	done := start.Add(time.Duration(service * float64(time.Second)))
	k.cooks[0] = done
	if k.rng.Float64() < 0.02 {
		done = done.Add(time.Duration(3+k.rng.IntN(10)) * time.Minute)
	}
	o := &agent.Order{Store: "sim", ID: fmt.Sprint("o", id), Status: wire.StatusStarted, TicketSeen: true,
		AcceptedAt: at, StartedAt: at, Items: items, Station: "line"}
	travel := time.Duration(3+k.rng.IntN(10)) * time.Minute
	o.LeadTime = travel
	return &simOrder{o: o, accept: at, done: done, travel: travel}
}

// simulate runs n scored orders (after warm orders that only teach the
// model) through the default rules, with 30 s ticks and a bump at each
// order's done time.
func simulate(t testing.TB, warm, n int) []*simOrder {
	e, err := rules.New(agent.DefaultParams(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return simulateOn(e, newVirtualKitchen(42), warm, n)
}

// simulateOn runs kitchen k's orders through engine e (see simulate).
func simulateOn(e *rules.Engine, k *virtualKitchen, warm, n int) []*simOrder {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.Local)
	var all, open []*simOrder
	next := now
	evSeq := 0
	for len(all) < warm+n || len(open) > 0 {
		now = now.Add(30 * time.Second)
		if now.Hour() >= 22 { // closed overnight: jump to 10:00 when the kitchen is empty
			if len(open) == 0 {
				now = time.Date(now.Year(), now.Month(), now.Day()+1, 10, 0, 0, 0, time.Local)
				next = now
			}
		}
		for len(all) < warm+n && !next.After(now) && next.Hour() < 22 {
			so := k.order(len(all), next)
			so.o.Load = load(open, next)
			all, open = append(all, so), append(open, so)
			evSeq++
			record(so, e.Decide(so.o, agent.Trigger{Now: next, Event: &wire.Event{ID: fmt.Sprint("e", evSeq), Kind: wire.EventTicket, At: next}}), next)
			next = next.Add(time.Duration(k.rng.ExpFloat64() / k.rate(next) * float64(time.Minute)))
		}
		open = advance(e, open, now, &evSeq)
	}
	return all[warm:]
}

// advance bumps the open orders done by now, each at its done time and
// learned, ticks the others at now, and returns those still open.
func advance(e *rules.Engine, open []*simOrder, now time.Time, evSeq *int) []*simOrder {
	kept := open[:0]
	for _, so := range open {
		if !so.done.After(now) {
			from := so.o.Status
			so.o.Status, so.o.DoneAt = wire.StatusDone, so.done
			*evSeq++
			ev := &wire.Event{ID: fmt.Sprint("e", *evSeq), Kind: wire.EventKey, At: so.done}
			record(so, e.Decide(so.o, agent.Trigger{Now: so.done, Event: ev, From: from}), so.done)
			e.Learn(agent.NewHistoryRecord(so.o, so.done))
			continue
		}
		record(so, e.Decide(so.o, agent.Trigger{Now: now}), now)
		kept = append(kept, so)
	}
	return kept
}

func load(open []*simOrder, at time.Time) agent.Load {
	var l agent.Load
	for _, so := range open {
		if so.done.After(at) {
			l.OpenOrders++
			l.OpenItems += so.o.ItemCount()
			l.StationOrders++
		}
	}
	return l
}

func record(so *simOrder, ds []wire.Decision, at time.Time) {
	for _, d := range ds {
		switch {
		case d.Kind == wire.KindReadySoon && so.readySoon.IsZero():
			so.readySoon = at
		case d.Kind == wire.KindReady:
			so.readyMsg = at
		}
	}
}

// policyResult is what riders experienced under one notification policy.
type policyResult struct {
	name               string
	riderWait          time.Duration // mean time a rider waits at the counter
	early              float64       // share of riders who arrive before the food is ready
	foodWait           time.Duration // mean time ready food waits for its rider
	waitOver2Min       float64       // share of riders waiting more than 2 minutes
	meanAcceptToPickup time.Duration
}

// outcome scores riders who leave at depart(so) and travel so.travel.
func outcome(name string, orders []*simOrder, depart func(*simOrder) time.Time) policyResult {
	r := policyResult{name: name}
	var wait, food, total time.Duration
	early, over := 0, 0
	for _, so := range orders {
		arrive := depart(so).Add(so.travel)
		if arrive.Before(so.done) {
			early++
			w := so.done.Sub(arrive)
			wait += w
			if w > 2*time.Minute {
				over++
			}
		} else {
			food += arrive.Sub(so.done)
		}
		total += later(arrive, so.done).Sub(so.accept)
	}
	n := time.Duration(len(orders))
	r.riderWait, r.foodWait, r.meanAcceptToPickup = wait/n, food/n, total/n
	r.early, r.waitOver2Min = float64(early)/float64(len(orders)), float64(over)/float64(len(orders))
	return r
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// TestSimulatedRiderWait compares what riders live through under
// (a) "notify on bump only", where the platform dispatches riders to
// arrive at the store's usual prep time and the bump is the only kitchen
// signal, (a') riders leave only when told ready, and (b) Passline's
// default rules, where a rider leaves on ready_soon (or ready, whichever
// comes first). PASSLINE_SIM_ORDERS sets the number of scored orders
// (default 1500).
func TestSimulatedRiderWait(t *testing.T) {
	n := 1500
	if v, err := strconv.Atoi(os.Getenv("PASSLINE_SIM_ORDERS")); err == nil && v > 0 {
		n = v
	}
	orders := simulate(t, 1500, n)
	preps := make([]float64, len(orders))
	for i, so := range orders {
		preps[i] = so.done.Sub(so.accept).Seconds()
	}
	sort.Float64s(preps)
	median := time.Duration(preps[len(preps)/2] * float64(time.Second))
	platform := func(so *simOrder) time.Time { // dispatched to arrive at accept + usual prep, or on bump if earlier
		d := so.accept.Add(median - so.travel)
		if d.Before(so.accept) {
			d = so.accept
		}
		if so.done.Before(d) {
			d = so.done
		}
		return d
	}
	onBump := func(so *simOrder) time.Time { return so.done }
	passline := func(so *simOrder) time.Time {
		if !so.readySoon.IsZero() && so.readySoon.Before(so.done) {
			return so.readySoon
		}
		return so.done
	}
	missing := 0
	for _, so := range orders {
		if so.readyMsg.IsZero() {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d orders were bumped without a ready decision", missing)
	}
	res := []policyResult{outcome("a: bump only, platform dispatch", orders, platform), outcome("a': leave on bump", orders, onBump), outcome("b: passline default rules", orders, passline)}
	t.Logf("virtual kitchen: %d scored orders, median prep %s, p90 %s", len(orders), median.Round(time.Second),
		time.Duration(preps[len(preps)*9/10]*float64(time.Second)).Round(time.Second))
	for _, r := range res {
		t.Logf("%-34s rider wait %6.1f s  arrive early %5.1f%%  wait>2min %5.1f%%  food waits %6.1f s  accept->pickup %6.1f s",
			r.name, r.riderWait.Seconds(), 100*r.early, 100*r.waitOver2Min, r.foodWait.Seconds(), r.meanAcceptToPickup.Seconds())
	}
	a, b := res[0], res[2]
	if b.riderWait >= a.riderWait || b.early >= a.early {
		t.Errorf("Passline rules did not cut rider wait: %+v vs %+v", b, a)
	}
	if b.early > 0.25 {
		t.Errorf("%.0f%% of riders arrive before the food with ready_soon at P >= 0.85", 100*b.early)
	}
	if b.meanAcceptToPickup >= res[1].meanAcceptToPickup {
		t.Errorf("Passline rules are not faster to pickup than leaving on bump: %s vs %s", b.meanAcceptToPickup, res[1].meanAcceptToPickup)
	}
}
