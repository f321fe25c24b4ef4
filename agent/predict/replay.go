package predict

import (
	"container/heap"
	"time"

	"github.com/passline/passline/history"
)

// kitchenLoad is what a store's agent knows is in progress: orders accepted
// and not yet ready.
type kitchenLoad struct {
	orders, items int
	station       map[string]int
}

// Replay feeds a time-ordered history through per-store models exactly as
// the live agent would meet it: at each accept, the orders that became
// ready before it have been learned, the load is what is still open, and
// the order is predicted before anything about its own outcome is known.
type Replay struct {
	Models map[string]*Model // per store, made on its first order
	load   map[string]*kitchenLoad
	feats  []Features
	due    dueHeap
	fleet  Fleet // priors new stores start from; nil: New
}

// NewReplay returns a replay whose stores start from fleet's prior for
// their category, or from New when fleet is nil.
func NewReplay(fleet Fleet) *Replay {
	return &Replay{Models: map[string]*Model{}, load: map[string]*kitchenLoad{}, fleet: fleet}
}

// model is the store's model, made on its first order.
func (rp *Replay) model(r *history.Row) *Model {
	m := rp.Models[r.Store]
	if m != nil {
		return m
	}
	m = New()
	if rp.fleet != nil {
		// A fleet is validated when it is fitted or read, so this does not
		// fail; if it did, the store would keep the default prior.
		_ = m.SetPrior(rp.fleet.For(r.Category).ForCity(r.City))
	}
	rp.Models[r.Store] = m
	return m
}

// Hooks are called during a replay. Accept runs when order i is accepted,
// before it is learned; Ready runs when it completes, before the model
// learns it.
type Hooks struct {
	Accept func(i int, f *Features, m *Model)
	Ready  func(i int, f *Features)
	Tick   func(done int) // progress, every few thousand rows
}

// Run replays rows (sorted by accept time) through the stores' models,
// calling h's hooks as it goes.
func (rp *Replay) Run(rows []history.Row, h Hooks) {
	rp.feats = make([]Features, len(rows))
	rp.due = rp.due[:0]
	for i := range rows {
		r := &rows[i]
		rp.complete(rows, r.AcceptedAt, h)
		ld := rp.load[r.Store]
		if ld == nil {
			ld = &kitchenLoad{station: map[string]int{}}
			rp.load[r.Store] = ld
		}
		f := &rp.feats[i]
		*f = features(r, ld)
		m := rp.model(r)
		if h.Accept != nil {
			h.Accept(i, f, m)
		}
		ld.orders++
		ld.items += f.Items
		ld.station[r.Station]++
		heap.Push(&rp.due, due{at: r.ReadyAt, i: i})
		if h.Tick != nil && i%4096 == 0 {
			h.Tick(i)
		}
	}
	rp.complete(rows, time.Time{}, h)
}

// complete learns every order ready at or before t (all when t is zero).
func (rp *Replay) complete(rows []history.Row, t time.Time, h Hooks) {
	for len(rp.due) > 0 && (t.IsZero() || !rp.due[0].at.After(t)) {
		i := heap.Pop(&rp.due).(due).i
		r, f := &rows[i], &rp.feats[i]
		ld := rp.load[r.Store]
		ld.orders--
		ld.items -= f.Items
		ld.station[r.Station]--
		if h.Ready != nil {
			h.Ready(i, f)
		}
		rp.Models[r.Store].Learn(f, r.Prep())
	}
}

func features(r *history.Row, ld *kitchenLoad) Features {
	items := r.Items
	if items == 0 {
		for _, s := range r.SKUs {
			items += s.Qty
		}
	}
	items = max(items, 1)
	return Features{
		Items: items, Distinct: r.Distinct, SKUs: r.SKUs, Station: r.Station,
		OpenOrders: ld.orders, OpenItems: ld.items, StationOpen: ld.station[r.Station],
		At: r.AcceptedAt, Value: r.Subtotal,
	}
}

type due struct {
	at time.Time
	i  int
}

type dueHeap []due

func (h dueHeap) Len() int { return len(h) }
func (h dueHeap) Less(a, b int) bool {
	if h[a].at.Equal(h[b].at) {
		return h[a].i < h[b].i
	}
	return h[a].at.Before(h[b].at)
}
func (h dueHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *dueHeap) Push(x any)   { *h = append(*h, x.(due)) }
func (h *dueHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
