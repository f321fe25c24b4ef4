package sim

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/passline/passline/wire"
)

// Kitchen is a deterministic discrete-event model of a delivery kitchen.
// It does no I/O and reads no clock: Step advances it to a given time.
// A Kitchen is not safe for concurrent use.
type Kitchen struct {
	cfg    Config
	rng    *rand.Rand
	start  time.Time     // clock time at which the kitchen opened
	now    time.Duration // kitchen time reached, since opening
	queue  happenings
	seq    uint64 // tie-break for happenings at the same instant
	orders int    // orders created, for ids
	open   map[string]*order
	items  int // open portions (jobs not yet cooked)
	free   map[string]int
	wait   map[string][]*job
	menu   []float64 // cumulative popularity
	maxMul float64   // largest peak multiplier
	out    []wire.Event
	done   []Outcome
}

// Outcome is the ground truth of one finished order, for evaluating a
// prediction model against the simulation. Times are clock times.
type Outcome struct {
	OrderID    string
	Items      []wire.Item
	AcceptedAt time.Time
	StartedAt  time.Time // first dish picked up by a cook
	DoneAt     time.Time // bumped
	OpenOrders int       // open orders when it arrived, itself excluded
	OpenItems  int       // portions waiting or cooking when it arrived
	Remade     bool
}

type order struct {
	id, code, channel string
	items             []wire.Item
	dishes            []int
	pending           int
	started, remade   bool
	accepted, start   time.Duration
	openOrders, load  int
}

type job struct {
	o    *order
	dish int
	qty  int
}

// NewKitchen builds a kitchen that opens at clock time start. The same
// config, seed and sequence of Step times always yield the same events,
// however the steps are spaced.
func NewKitchen(cfg Config, seed uint64, start time.Time) (*Kitchen, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.IDPrefix == "" {
		cfg.IDPrefix = "o"
	}
	k := &Kitchen{
		cfg:   cfg,
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		start: start,
		open:  map[string]*order{},
		free:  map[string]int{},
		wait:  map[string][]*job{},
	}
	for _, s := range cfg.Stations {
		k.free[s.Name] = s.Cooks
	}
	total := 0.0
	for _, d := range cfg.Menu {
		p := d.Popular
		if p == 0 {
			p = 1
		}
		total += p
		k.menu = append(k.menu, total)
	}
	k.maxMul = 1
	if cfg.Peaks {
		for m := 0; m < 24*60; m++ {
			k.maxMul = math.Max(k.maxMul, peakMultiplier(float64(m)/60))
		}
	}
	k.schedule(0, happening{kind: arrive}) // open with an order: demos start at once
	return k, nil
}

// Step advances the kitchen to clock time now and returns the events its
// devices produced since the last Step, in time order, stamped with clock
// times. A now before the last Step does nothing.
func (k *Kitchen) Step(now time.Time) []wire.Event {
	target := time.Duration(float64(now.Sub(k.start)) * k.cfg.Speed)
	for k.queue.Len() > 0 && k.queue[0].at <= target {
		h := heap.Pop(&k.queue).(happening)
		k.now = h.at
		k.handle(h)
	}
	if target > k.now {
		k.now = target
	}
	out := k.out
	k.out = nil
	return out
}

// Load returns the orders not yet bumped and the portions not yet cooked.
func (k *Kitchen) Load() (orders, items int) { return len(k.open), k.items }

// maxOutcomes bounds the outcomes kept between TakeOutcomes calls; the
// oldest are dropped beyond it.
const maxOutcomes = 10000

// TakeOutcomes returns the orders bumped since the last call (at most the
// last 10,000).
func (k *Kitchen) TakeOutcomes() []Outcome {
	d := k.done
	k.done = nil
	return d
}

// clock converts kitchen time to clock time.
func (k *Kitchen) clock(at time.Duration) time.Time {
	return k.start.Add(time.Duration(float64(at) / k.cfg.Speed))
}

func (k *Kitchen) handle(h happening) {
	switch h.kind {
	case arrive:
		k.arrive()
	case cooked:
		k.cooked(h.job, h.station)
	case bump:
		k.bump(h.order)
	case weigh:
		k.weigh(h.order)
	}
}

func (k *Kitchen) arrive() {
	k.schedule(k.now+k.nextArrival(), happening{kind: arrive})
	if len(k.open) >= k.cfg.MaxOpenOrders {
		return
	}
	k.orders++
	o := &order{
		id:         fmt.Sprintf("%s-%05d", k.cfg.IDPrefix, k.orders),
		code:       fmt.Sprintf("#%d", (k.orders-1)%99+1),
		accepted:   k.now,
		openOrders: len(k.open),
		load:       k.items,
	}
	if len(k.cfg.Channels) > 0 {
		o.channel = k.cfg.Channels[k.rng.IntN(len(k.cfg.Channels))]
	}
	k.fillOrder(o)
	k.open[o.id] = o
	k.emitTicket(o)
	for i, d := range o.dishes {
		k.enqueue(&job{o: o, dish: d, qty: o.items[i].Qty})
	}
}

// fillOrder draws 1-4 distinct dishes, mostly one portion each.
func (k *Kitchen) fillOrder(o *order) {
	lines := 1
	for lines < 4 && k.rng.Float64() < 0.5 {
		lines++
	}
	seen := map[int]bool{}
	for len(o.dishes) < lines && len(seen) < len(k.cfg.Menu) {
		d := k.pickDish()
		if seen[d] {
			continue
		}
		seen[d] = true
		qty := 1
		if r := k.rng.Float64(); r > 0.95 {
			qty = 3
		} else if r > 0.8 {
			qty = 2
		}
		dish := k.cfg.Menu[d]
		o.dishes = append(o.dishes, d)
		o.items = append(o.items, wire.Item{SKU: dish.SKU, Name: dish.Name, Qty: qty, Station: dish.Station})
	}
}

func (k *Kitchen) pickDish() int {
	r := k.rng.Float64() * k.menu[len(k.menu)-1]
	for i, c := range k.menu {
		if r < c {
			return i
		}
	}
	return len(k.menu) - 1
}

// nextArrival draws the gap to the next arrival of a Poisson process whose
// rate follows the day's peaks (Lewis-Shedler thinning).
func (k *Kitchen) nextArrival() time.Duration {
	maxRate := k.cfg.OrdersPerMinute * k.maxMul / float64(time.Minute)
	t := k.now
	for {
		t += time.Duration(k.rng.ExpFloat64() / maxRate)
		if !k.cfg.Peaks || k.rng.Float64()*k.maxMul <= peakMultiplier(k.hourOfDay(t)) {
			return t - k.now
		}
	}
}

func (k *Kitchen) hourOfDay(at time.Duration) float64 {
	t := k.start.Add(at) // kitchen time of day runs from the opening clock time
	return float64(t.Hour()) + float64(t.Minute())/60 + float64(t.Second())/3600
}

// peakMultiplier is the arrival rate multiplier at an hour of the day: a
// quiet night, a lunch peak around 12:30 and a dinner peak around 19:00.
func peakMultiplier(h float64) float64 {
	g := func(mu, sigma float64) float64 { return math.Exp(-(h - mu) * (h - mu) / (2 * sigma * sigma)) }
	return 0.4 + 2.1*g(12.5, 0.8) + 1.8*g(19, 1.1)
}
