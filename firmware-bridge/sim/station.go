package sim

import (
	"container/heap"
	"math"
	"time"

	"github.com/passline/passline/wire"
)

// enqueue puts a job in its station's queue and starts it if a cook is free.
func (k *Kitchen) enqueue(j *job) {
	st := k.cfg.Menu[j.dish].Station
	k.wait[st] = append(k.wait[st], j)
	k.items += j.qty
	j.o.pending++
	k.dispatch(st)
}

// dispatch gives waiting jobs to free cooks, first come first served. A
// cook cooks a whole line at once; extra portions add 30% each. Cooking
// time is log-normal around the dish's median.
func (k *Kitchen) dispatch(st string) {
	for k.free[st] > 0 && len(k.wait[st]) > 0 {
		j := k.wait[st][0]
		k.wait[st] = k.wait[st][1:]
		k.free[st]--
		if !j.o.started {
			j.o.started, j.o.start = true, k.now
			if k.cfg.StartKeys {
				k.emitKey(j.o, wire.KeyStart, "t")
			}
		}
		prep := float64(k.cfg.Menu[j.dish].Prep) * (1 + 0.3*float64(j.qty-1))
		prep *= math.Exp(0.25 * k.rng.NormFloat64())
		k.schedule(k.now+time.Duration(prep), happening{kind: cooked, job: j, station: st})
	}
}

// cooked frees the cook; when it was the order's last dish, the order is
// either remade (one dish cooked again) or bumped after a short delay.
func (k *Kitchen) cooked(j *job, st string) {
	k.free[st]++
	k.items -= j.qty
	o := j.o
	o.pending--
	if o.pending == 0 {
		if !o.remade && k.rng.Float64() < k.cfg.RemakeRate {
			o.remade = true
			i := k.rng.IntN(len(o.dishes))
			k.enqueue(&job{o: o, dish: o.dishes[i], qty: o.items[i].Qty})
		} else {
			lo, hi := k.cfg.BumpDelay[0], k.cfg.BumpDelay[1]
			if hi == 0 {
				lo, hi = 5*time.Second, 30*time.Second
			}
			delay := lo + time.Duration(k.rng.Float64()*float64(hi-lo))
			k.schedule(k.now+delay, happening{kind: bump, order: o})
		}
	}
	k.dispatch(st)
}

func (k *Kitchen) bump(o *order) {
	k.emitKey(o, wire.KeyBump, "k")
	if len(k.done) >= maxOutcomes {
		k.done = append(k.done[:0], k.done[1:]...)
	}
	k.done = append(k.done, Outcome{
		OrderID: o.id, Items: o.items, Remade: o.remade,
		AcceptedAt: k.clock(o.accepted), StartedAt: k.clock(o.start), DoneAt: k.clock(k.now),
		OpenOrders: o.openOrders, OpenItems: o.load,
	})
	delete(k.open, o.id)
	delay := 20*time.Second + time.Duration(k.rng.Float64()*float64(70*time.Second))
	k.schedule(k.now+delay, happening{kind: weigh, order: o})
}

// weigh puts the packed bag on the scale: dishes plus a 30 g bag, ±5 g.
func (k *Kitchen) weigh(o *order) {
	grams := 30 + 5*k.rng.NormFloat64()
	for i, d := range o.dishes {
		grams += k.cfg.Menu[d].Grams * float64(o.items[i].Qty)
	}
	grams = math.Max(1, math.Round(grams))
	k.out = append(k.out, wire.Event{
		ID: o.id + "-w", Kind: wire.EventWeight, Store: k.cfg.Store, DeviceID: k.cfg.ScaleID,
		At: k.clock(k.now), Weight: &wire.Weight{Grams: grams, Stable: true, OrderID: o.id},
	})
}

func (k *Kitchen) emitTicket(o *order) {
	promised := k.clock(o.accepted + 20*time.Minute + time.Duration(len(o.items))*time.Minute)
	k.out = append(k.out, wire.Event{
		ID: o.id + "-p", Kind: wire.EventTicket, Store: k.cfg.Store, DeviceID: k.cfg.PrinterID,
		At: k.clock(o.accepted),
		Ticket: &wire.Ticket{
			OrderID: o.id, ShortCode: o.code, Channel: o.channel,
			Items: append([]wire.Item(nil), o.items...), PromisedAt: &promised,
		},
	})
}

// emitKey publishes a bump-bar key for the order: by order id, as a KDS
// does, or by the order's main station when BumpByStation is set.
func (k *Kitchen) emitKey(o *order, action wire.KeyAction, suffix string) {
	key := &wire.Key{Action: action, OrderID: o.id}
	if k.cfg.BumpByStation {
		key = &wire.Key{Action: action, Station: k.mainStation(o)}
	}
	k.out = append(k.out, wire.Event{
		ID: o.id + "-" + suffix, Kind: wire.EventKey, Store: k.cfg.Store, DeviceID: k.cfg.BumpBarID,
		At: k.clock(k.now), Key: key,
	})
}

// mainStation is the station of the order's longest dish.
func (k *Kitchen) mainStation(o *order) string {
	best := o.dishes[0]
	for _, d := range o.dishes[1:] {
		if k.cfg.Menu[d].Prep > k.cfg.Menu[best].Prep {
			best = d
		}
	}
	return k.cfg.Menu[best].Station
}

type happeningKind int

const (
	arrive happeningKind = iota
	cooked
	bump
	weigh
)

type happening struct {
	at      time.Duration
	seq     uint64
	kind    happeningKind
	job     *job
	station string
	order   *order
}

func (k *Kitchen) schedule(at time.Duration, h happening) {
	k.seq++
	h.at, h.seq = at, k.seq
	heap.Push(&k.queue, h)
}

// happenings is a min-heap on (at, seq).
type happenings []happening

func (q happenings) Len() int { return len(q) }
func (q happenings) Less(i, j int) bool {
	return q[i].at < q[j].at || (q[i].at == q[j].at && q[i].seq < q[j].seq)
}
func (q happenings) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *happenings) Push(x any)   { *q = append(*q, x.(happening)) }
func (q *happenings) Pop() any {
	old := *q
	h := old[len(old)-1]
	*q = old[:len(old)-1]
	return h
}
