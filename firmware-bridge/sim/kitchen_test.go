package sim_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/firmware-bridge/sim"
	"github.com/passline/passline/wire"
)

// opening is 10:00 UTC yesterday: recent enough for wire's age checks,
// and a fixed hour of day for the peaks.
var opening = func() time.Time {
	y := time.Now().UTC().AddDate(0, 0, -1)
	return time.Date(y.Year(), y.Month(), y.Day(), 10, 0, 0, 0, time.UTC)
}()

func newKitchen(t *testing.T, mutate func(*sim.Config), seed uint64) *sim.Kitchen {
	t.Helper()
	cfg := sim.DefaultConfig()
	cfg.Store = "s1"
	if mutate != nil {
		mutate(&cfg)
	}
	k, err := sim.NewKitchen(cfg, seed, opening)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// run steps the kitchen from opening to opening+d in steps of step.
func run(k *sim.Kitchen, d, step time.Duration) []wire.Event {
	var out []wire.Event
	for t := step; t <= d; t += step {
		out = append(out, k.Step(opening.Add(t))...)
	}
	return out
}

func TestKitchenDeterministicWhateverTheStep(t *testing.T) {
	a := run(newKitchen(t, nil, 7), 4*time.Hour, time.Second)
	b := run(newKitchen(t, nil, 7), 4*time.Hour, 16*time.Minute)
	if len(a) < 100 {
		t.Fatalf("only %d events in 4 hours", len(a))
	}
	if len(a) != len(b) {
		t.Fatalf("1 s steps gave %d events, 16 min steps %d", len(a), len(b))
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different step sizes: different events")
	}
	c := run(newKitchen(t, nil, 8), 4*time.Hour, time.Minute)
	if reflect.DeepEqual(a, c) {
		t.Fatal("different seeds gave identical kitchens")
	}
}

func TestKitchenEventsAreValidAndOrdered(t *testing.T) {
	k := newKitchen(t, func(c *sim.Config) { c.StartKeys = true }, 1)
	evs := run(k, 3*time.Hour, 30*time.Second)
	type seen struct{ ticket, start, bump, weight time.Time }
	orders := map[string]*seen{}
	var last time.Time
	for _, ev := range evs {
		if err := ev.ValidateAt(opening.Add(3 * time.Hour)); err != nil {
			t.Fatalf("event %s: %v", ev.ID, err)
		}
		if _, err := ev.Marshal(); err != nil {
			t.Fatalf("marshal %s: %v", ev.ID, err)
		}
		if ev.At.Before(last) {
			t.Fatalf("event %s at %s before previous %s", ev.ID, ev.At, last)
		}
		last = ev.At
		id := ev.OrderID()
		if orders[id] == nil {
			orders[id] = &seen{}
		}
		s := orders[id]
		switch {
		case ev.Kind == wire.EventTicket:
			s.ticket = ev.At
			if len(ev.Ticket.Items) == 0 || ev.Ticket.PromisedAt == nil || ev.Ticket.ShortCode == "" {
				t.Fatalf("ticket %s lacks items, promise or short code: %+v", id, ev.Ticket)
			}
		case ev.Kind == wire.EventKey && ev.Key.Action == wire.KeyStart:
			s.start = ev.At
		case ev.Kind == wire.EventKey && ev.Key.Action == wire.KeyBump:
			s.bump = ev.At
		case ev.Kind == wire.EventWeight:
			s.weight = ev.At
			if !ev.Weight.Stable || ev.Weight.Grams < 100 {
				t.Fatalf("weight %+v", ev.Weight)
			}
		}
	}
	complete := 0
	for id, s := range orders {
		if s.ticket.IsZero() {
			t.Fatalf("order %s has events but no ticket", id)
		}
		if !s.bump.IsZero() && (s.start.IsZero() || s.start.Before(s.ticket) || !s.bump.After(s.start)) {
			t.Fatalf("order %s: ticket %s start %s bump %s", id, s.ticket, s.start, s.bump)
		}
		if !s.weight.IsZero() {
			complete++
			if !s.weight.After(s.bump) || s.bump.IsZero() {
				t.Fatalf("order %s weighed at %s, bumped at %s", id, s.weight, s.bump)
			}
		}
	}
	if complete < 30 {
		t.Fatalf("only %d orders completed in 3 hours", complete)
	}
}

// Over a simulated day, orders that arrive at the lunch peak take longer
// than orders that arrive mid-afternoon, and bigger orders take longer.
func TestKitchenPrepGrowsWithLoadAndMix(t *testing.T) {
	k := newKitchen(t, nil, 3)
	var outs []sim.Outcome
	for h := time.Hour; h <= 12*time.Hour; h += time.Hour {
		k.Step(opening.Add(h))
		outs = append(outs, k.TakeOutcomes()...)
	}
	mean := func(keep func(sim.Outcome) bool) (time.Duration, int) {
		var sum time.Duration
		n := 0
		for _, o := range outs {
			if keep(o) {
				sum += o.DoneAt.Sub(o.AcceptedAt)
				n++
			}
		}
		if n == 0 {
			t.Fatal("no orders in a bucket")
		}
		return sum / time.Duration(n), n
	}
	hour := func(o sim.Outcome) float64 { return float64(o.AcceptedAt.Hour()) + float64(o.AcceptedAt.Minute())/60 }
	peak, np := mean(func(o sim.Outcome) bool { h := hour(o); return h >= 12.25 && h < 13.25 })
	calm, nc := mean(func(o sim.Outcome) bool { h := hour(o); return h >= 15.5 && h < 17 })
	t.Logf("lunch peak: %d orders, mean prep %s; afternoon: %d orders, mean prep %s", np, peak, nc, calm)
	if np <= nc || peak <= calm {
		t.Fatalf("peak %d orders %s vs calm %d orders %s: no load effect", np, peak, nc, calm)
	}
	single, _ := mean(func(o sim.Outcome) bool { return len(o.Items) == 1 })
	multi, _ := mean(func(o sim.Outcome) bool { return len(o.Items) >= 3 })
	if multi <= single {
		t.Fatalf("3+ dish orders %s not slower than 1-dish orders %s", multi, single)
	}
}

func TestKitchenRemakesAboutTwoPercent(t *testing.T) {
	k := newKitchen(t, func(c *sim.Config) { c.OrdersPerMinute = 1; c.Peaks = false; c.Stations[0].Cooks = 6 }, 5)
	k.Step(opening.Add(48 * time.Hour))
	outs := k.TakeOutcomes()
	remade := 0
	for _, o := range outs {
		if o.Remade {
			remade++
		}
	}
	share := float64(remade) / float64(len(outs))
	t.Logf("%d of %d orders remade (%.1f%%)", remade, len(outs), 100*share)
	if len(outs) < 2000 || share < 0.01 || share > 0.03 {
		t.Fatalf("%d of %d orders remade", remade, len(outs))
	}
}

// At speed 60 a kitchen minute passes in a clock second: the first order
// (placed at opening) is bumped within seconds, and timestamps are clock
// times, not kitchen times.
func TestKitchenSpeedCompressesTime(t *testing.T) {
	k := newKitchen(t, func(c *sim.Config) { c.Speed = 60; c.Peaks = false }, 2)
	evs := k.Step(opening.Add(30 * time.Second))
	var bump *wire.Event
	for i := range evs {
		if evs[i].Kind == wire.EventKey {
			bump = &evs[i]
			break
		}
	}
	if bump == nil {
		t.Fatalf("no bump in 30 clock seconds (30 kitchen minutes): %d events", len(evs))
	}
	if evs[0].Kind != wire.EventTicket || !evs[0].At.Equal(opening) {
		t.Fatalf("first event %s at %s, want a ticket at opening", evs[0].Kind, evs[0].At)
	}
	if d := bump.At.Sub(opening); d > 15*time.Second {
		t.Fatalf("first bump after %s of clock time", d)
	}
}

func TestKitchenBumpByStation(t *testing.T) {
	k := newKitchen(t, func(c *sim.Config) { c.BumpByStation = true }, 4)
	for _, ev := range run(k, time.Hour, time.Minute) {
		if ev.Kind == wire.EventKey && (ev.Key.OrderID != "" || ev.Key.Station == "") {
			t.Fatalf("station bump %+v", ev.Key)
		}
	}
}

func TestConfigValidateNamesField(t *testing.T) {
	for name, tc := range map[string]struct {
		mutate func(*sim.Config)
		want   string
	}{
		"rate":    {func(c *sim.Config) { c.OrdersPerMinute = 0 }, "orders_per_minute"},
		"speed":   {func(c *sim.Config) { c.Speed = -1 }, "speed"},
		"station": {func(c *sim.Config) { c.Menu[0].Station = "moon" }, "menu[0].station"},
		"cooks":   {func(c *sim.Config) { c.Stations[1].Cooks = 0 }, "stations[1]"},
		"store":   {func(c *sim.Config) { c.Store = "a/b" }, "store"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := sim.DefaultConfig()
			cfg.Store = "s1"
			tc.mutate(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v does not name %s", err, tc.want)
			}
		})
	}
}

// BenchmarkKitchenDay simulates one 24-hour day of the default kitchen
// (with its lunch and dinner peaks) per op, stepped every 10 s.
func BenchmarkKitchenDay(b *testing.B) {
	cfg := sim.DefaultConfig()
	cfg.Store = "s1"
	events := 0
	for i := 0; i < b.N; i++ {
		k, err := sim.NewKitchen(cfg, uint64(i), opening)
		if err != nil {
			b.Fatal(err)
		}
		for t := 10 * time.Second; t <= 24*time.Hour; t += 10 * time.Second {
			events += len(k.Step(opening.Add(t)))
		}
	}
	b.ReportMetric(float64(events)/float64(b.N), "events/day")
}
