package browser_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/wire"
)

// demoStations are the simulated kitchen's five stations (firmware-bridge/sim).
var demoStations = []string{"wok", "grill", "fryer", "cold", "drinks"}

// kitchenDay puts an order on every demo station, bumps some, and reports
// two of the bumped orders' riders as the platform would: arrived 90 s
// before the bump, picked up a minute after. It returns the orders bumped.
func kitchenDay(t *testing.T, s *system) []string {
	t.Helper()
	var bumped []string
	for i, st := range demoStations {
		for k := range 2 {
			order := fmt.Sprintf("o-%s-%d", st, k)
			s.ticket(t, order, "#"+strconv.Itoa(60+2*i+k), st, wire.Item{SKU: st + "-dish", Name: "Dish of the " + st, Qty: 1 + k, Station: st})
			if k == 0 {
				s.bump(t, order, st)
				bumped = append(bumped, order)
			}
		}
	}
	js, err := jetstream.New(s.nc)
	if err != nil {
		t.Fatal(err)
	}
	kv, err := js.KeyValue(context.Background(), natsjs.BucketPlatformOrders)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for _, order := range bumped[:2] {
		if _, err := (natsjs.PlatformOrders{KV: kv}).Update(context.Background(), s.store, order, func(o *platform.Order) error {
			o.Store, o.OrderID, o.Platform, o.PlatformID, o.Status = s.store, order, platform.Deliveroo, "dr-"+order, "picked_up"
			o.RiderArrivedAt, o.PickedUpAt, o.UpdatedAt = now.Add(-90*time.Second), now.Add(time.Minute), now
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	return bumped
}

// points is how many data points the chart in element id has drawn.
func points(p *page, id string) int {
	v := string(p.eval(fmt.Sprintf(`Number(document.getElementById(%q).dataset.points || 0)`, id)))
	n, _ := strconv.Atoi(v)
	return n
}

// TestPassBoardFitsDemoStationsAndPlotsToday opens the pass board at
// 1280 px with every station of the demo kitchen busy: all six columns
// (five stations and Ready) must lie inside the window with nothing to
// scroll, a card whose rider was told nothing has no "rider" line, and the
// "today" strip must plot the ready-report rate and the rider wait the
// cloud computed from the platform's arrival and pickup times.
func TestPassBoardFitsDemoStationsAndPlotsToday(t *testing.T) {
	b := startBrowser(t)
	s := startSystem(t)
	kitchenDay(t, s)
	p := b.open("http://" + s.agent.HTTPAddr() + "/board/")
	p.viewport(1280, 800, false)
	p.waitFor(10*time.Second, "every demo station", fmt.Sprintf(`document.querySelectorAll('[data-section="station"]').length === %d`, len(demoStations)))
	p.waitFor(10*time.Second, "the ready-report rate", `document.getElementById('ready-rate').textContent.includes('%')`)
	p.waitFor(20*time.Second, "the rider wait from the cloud", `/\d/.test(document.getElementById('rider-wait').textContent)`)
	p.waitFor(10*time.Second, "plotted points", `Number(document.getElementById('plot-ready').dataset.points) > 0 && Number(document.getElementById('plot-wait').dataset.points) > 0`)
	fit := string(p.eval(`(() => { const w = window.innerWidth; const cols = [...document.querySelectorAll('.column')];
		return JSON.stringify({w, scroll: document.documentElement.scrollWidth, n: cols.length,
			right: Math.max(...cols.map(c => c.getBoundingClientRect().right)),
			cards: Math.max(...[...document.querySelectorAll('.card')].map(c => c.getBoundingClientRect().right))}) })()`))
	var got struct {
		W, Scroll, N int
		Right, Cards float64
	}
	if err := jsonUnquote(fit, &got); err != nil {
		t.Fatal(err)
	}
	if got.N != len(demoStations)+1 || got.Right > float64(got.W) || got.Cards > float64(got.W) || got.Scroll > got.W {
		t.Errorf("at 1280 px: %+v; want %d columns inside the window and nothing to scroll", got, len(demoStations)+1)
	}
	empty := string(p.eval(`[...document.querySelectorAll('.card')].filter(c => c.querySelector('.told') && !c.querySelector('.told .chip')).length`))
	if empty != "0" {
		t.Errorf("%s cards show an empty rider line", empty)
	}
	if n := string(p.eval(`document.querySelectorAll('.chip.none').length`)); n != "0" {
		t.Errorf("%s 'nothing yet' rider chips", n)
	}
	t.Logf("board: %d columns, rightmost edge %.0f of %d px; ready-rate points %d, rider-wait points %d; rider wait %s",
		got.N, got.Right, got.W, points(p, "plot-ready"), points(p, "plot-wait"), p.eval(`document.getElementById('rider-wait').textContent`))
	p.screenshot("passboard-stations-and-today")
}

// TestOpsPagePlotsLastHours opens the ops page after a kitchen day: the
// four plots (decisions/s, delivery p99, avoidable wait, ready-report
// rate) must each have data points, fleet-wide and for the store.
func TestOpsPagePlotsLastHours(t *testing.T) {
	b := startBrowser(t)
	s := startSystem(t)
	for _, st := range demoStations {
		s.assign(t, "o-"+st+"-0", uniqueID("rider"))
	}
	kitchenDay(t, s)
	p := b.open("http://" + s.cloud.HTTPAddr() + "/ops/")
	p.viewport(1280, 1000, false)
	for _, id := range []string{"plot-dps", "plot-p99", "plot-avoid", "plot-rate"} {
		p.waitFor(20*time.Second, "data points in "+id, fmt.Sprintf(`Number(document.getElementById(%q).dataset.points) > 0`, id))
	}
	t.Logf("fleet: points dps %d, p99 %d, avoidable %d, ready rate %d; now %s/s, p99 %s, avoidable %s, ready %s",
		points(p, "plot-dps"), points(p, "plot-p99"), points(p, "plot-avoid"), points(p, "plot-rate"),
		p.eval(`document.getElementById('now-dps').textContent`), p.eval(`document.getElementById('now-p99').textContent`),
		p.eval(`document.getElementById('now-avoid').textContent`), p.eval(`document.getElementById('now-rate').textContent`))
	p.screenshot("ops-plots-fleet")
	p.eval(fmt.Sprintf(`(() => { const s = document.getElementById('scope'); s.value = %q; s.dispatchEvent(new Event('change')); return s.value })()`, s.store))
	p.waitFor(5*time.Second, "the store's plots", fmt.Sprintf(`document.getElementById('scope').value === %q && Number(document.getElementById('plot-rate').dataset.points) > 0 && Number(document.getElementById('plot-dps').dataset.points) > 0`, s.store))
	p.screenshot("ops-plots-store")
}

// jsonUnquote decodes a JSON string whose content is itself JSON.
func jsonUnquote(raw string, v any) error {
	var s string
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return err
	}
	return json.Unmarshal([]byte(s), v)
}
