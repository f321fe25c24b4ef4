package rules_test

import (
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/modelcmd"
	"github.com/passline/passline/agent/predict"
	"github.com/passline/passline/agent/rules"
)

// kitchenRows is n orders of kitchen k as a history, arriving with the
// lunch and dinner peaks of rate from 10:00 to 22:00.
func kitchenRows(k *virtualKitchen, store string, n int) []modelcmd.Row {
	at := time.Date(2026, 2, 2, 10, 0, 0, 0, time.Local)
	rows := make([]modelcmd.Row, 0, n)
	for i := 0; i < n; i++ {
		so := k.order(i, at)
		r := modelcmd.Row{Store: store, OrderID: so.o.ID, AcceptedAt: at, ReadyAt: so.done, Station: "line"}
		for _, it := range so.o.Items {
			r.Items += it.Qty
			r.SKUs = append(r.SKUs, predict.SKUQty{SKU: it.SKU, Qty: it.Qty})
		}
		r.Distinct = len(r.SKUs)
		rows = append(rows, r)
		at = at.Add(time.Duration(k.rng.ExpFloat64() / k.rate(at) * float64(time.Minute)))
		if at.Hour() >= 22 {
			at = time.Date(at.Year(), at.Month(), at.Day()+1, 10, 0, 0, 0, time.Local)
		}
	}
	return rows
}

// TestColdStartWithFleetPrior: brand-new stores (kitchens of seeds the
// fleet never saw) start from the fleet prior fitted on 24 other kitchens
// and have no history. Each one's first 50 orders go through the default
// rules with 30 s ticks, learning each order as it is bumped: their
// ready_soon decisions come true (ready within the rider's lead time) at
// least 82% of the time, at least one order in ten gets one over the new
// stores, and every new store sends some. The default prior (no fleet) is
// logged beside it.
func TestColdStartWithFleetPrior(t *testing.T) {
	var fleet []modelcmd.Row
	for s := 0; s < 24; s++ {
		fleet = append(fleet, kitchenRows(fleetKitchen(uint64(100+s), s), fmt.Sprintf("k%02d", s), 300)...)
	}
	sortRows(fleet)
	fl, err := modelcmd.FitFleet(fleet)
	if err != nil {
		t.Fatal(err)
	}
	for _, prior := range []*predict.Prior{fl.For(""), nil} {
		sent, hits, silent := 0, 0, 0
		var per []int
		for s := 0; s < 8; s++ {
			e, err := rules.New(agent.DefaultParams(), nil)
			if err != nil {
				t.Fatal(err)
			}
			if prior != nil {
				if err := e.SetPrior(prior); err != nil {
					t.Fatal(err)
				}
			}
			n, h := readySoonOutcomes(simulateOn(e, fleetKitchen(uint64(9000+s), s+1), 0, 50))
			sent, hits, per = sent+n, hits+h, append(per, n)
			if n == 0 {
				silent++
			}
		}
		observed := float64(hits) / float64(max(sent, 1))
		t.Logf("fleet prior %v: 8 new stores × 50 orders: %d ready_soon (per store %v), %d ready in time (%.3f)",
			prior != nil, sent, per, hits, observed)
		if prior == nil {
			continue // the comparison the fleet prior is judged against
		}
		if sent < 8*50/10 || silent > 0 {
			t.Errorf("%d ready_soon in 400 orders, %d stores with none: silenced, want one order in ten", sent, silent)
		}
		if observed < 0.82 {
			t.Errorf("ready_soon came true %.3f of the time (%d of %d), want ≥ 0.82", observed, hits, sent)
		}
	}
}

// fleetKitchen is kitchen number s of a fleet of slow kitchens: 2 to 4
// cooks, dishes 2.5 to 3.5 times the usual cook time.
func fleetKitchen(seed uint64, s int) *virtualKitchen {
	return newKitchenOf(seed, 2+s%3, []float64{2.5, 3, 3.5}[s/3%3])
}

// readySoonOutcomes counts the orders told ready_soon before their bump
// and those of them ready within the rider's lead time of it.
func readySoonOutcomes(orders []*simOrder) (sent, hits int) {
	for _, so := range orders {
		if so.readySoon.IsZero() || !so.readySoon.Before(so.done) {
			continue
		}
		sent++
		if !so.done.After(so.readySoon.Add(so.travel)) {
			hits++
		}
	}
	return sent, hits
}

// sortRows puts rows in accept order, as a history file is read.
func sortRows(rows []modelcmd.Row) {
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].AcceptedAt.Before(rows[j].AcceptedAt) })
}
