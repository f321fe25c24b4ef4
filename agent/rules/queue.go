package rules

import (
	"math"
	"time"

	"github.com/passline/passline/agent/predict"
)

// Queue estimate limits.
const (
	// maxParallel is the most orders a kitchen is assumed to cook at
	// once; the queue fits 1 to maxParallel and uses the best.
	maxParallel = 6
	// queueMinOrders is how many bumped orders the queue must have
	// learned before it gives an opinion.
	queueMinOrders = 12
	// queueMemory is how many bumped orders its fit remembers.
	queueMemory = 300
	// queueMaxOpen bounds the orders it tracks. queueAdmit is how late
	// after its accept an order may be first seen and still be tracked:
	// one first seen later (after a restart) missed the bumps that moved
	// it up the queue.
	queueMaxOpen = 1000
	queueAdmit   = time.Minute
	// queueClip bounds a residual of log service time.
	queueClip = 2.0
	// queueTail: an order already past 1 − queueTail of its service
	// distribution is beyond what the queue explains (forgotten, remade);
	// the queue gives no opinion on it.
	queueTail = 0.05
	// queueMinScale is the narrowest spread of log service time the
	// queue uses: no kitchen is exact to 5%.
	queueMinScale = 0.05
	// skuPrior is how many pseudo-orders of the store's time per unit a
	// SKU's own time per unit is shrunk with.
	skuPrior = 3.0
)

// kitchenQueue is the kitchen as the engine sees it live, for
// P(ready within d) from the queue: the orders cooking, and how long
// bumped orders took from the moment they could have started.
//
// A kitchen that cooks c orders at once, first in first out, starts an
// order when fewer than c orders accepted before it are still open; from
// then its remaining time is what is left of its own service time, far
// narrower than its prep time, which also holds its wait in the queue.
// The queue learns, for every c from 1 to maxParallel, the service times
// bumped orders had under that c (ready − start as if c): each SKU's time
// per unit, and the out-of-sample residuals of log service time against
// the sum of its lines' times. The c whose residuals are narrowest is the
// kitchen's; a kitchen that is not a queue has wide residuals under every
// c, and the queue's probabilities stay low. It lives in memory only:
// after a restart it learns again from the next queueMinOrders bumps.
type kitchenQueue struct {
	open map[string]*queued
	fit  [maxParallel]serviceFit
}

// maxStations bounds the queues an engine keeps: orders of stations past
// the first maxStations share the queue of orders with no station.
const maxStations = 16

// queueFor is the kitchen queue of a ticket station: orders queue at
// their station (the station of their longest item), and a station's
// cooks are its own, so each station has its queue and its fit.
func (e *Engine) queueFor(station string) *kitchenQueue {
	if e.queues == nil {
		e.queues = map[string]*kitchenQueue{}
	}
	q := e.queues[station]
	if q == nil {
		if len(e.queues) >= maxStations {
			station = ""
			if q = e.queues[station]; q != nil {
				return q
			}
		}
		q = &kitchenQueue{}
		e.queues[station] = q
	}
	return q
}

// queued is an order the queue tracks.
type queued struct {
	accept time.Time
	start  [maxParallel]time.Time // start[c-1]: when fewer than c orders accepted before it were open
	ahead  int                    // orders accepted before it still open
	items  int
	lines  []predict.SKUQty
}

// admit starts tracking an order accepted at accept and first seen at now.
func (q *kitchenQueue) admit(id string, accept, now time.Time, f *predict.Features) {
	if q.open == nil {
		q.open = map[string]*queued{}
	}
	if _, ok := q.open[id]; ok || now.Sub(accept) > queueAdmit {
		return
	}
	for oid, o := range q.open { // a forgotten order would hold its place forever
		if now.Sub(o.accept) > predict.MaxPrep {
			q.leave(oid, now, false)
		}
	}
	if len(q.open) >= queueMaxOpen {
		return
	}
	o := &queued{accept: accept, items: f.Items, lines: f.SKUs}
	for _, p := range q.open {
		switch {
		case p.accept.Before(accept):
			o.ahead++
		case accept.Before(p.accept):
			p.ahead++ // seen late (a restarted agent meets its orders again in any order)
		}
	}
	q.open[id] = o
	o.advance(accept)
}

// advance sets the start times o has reached at t, with o.ahead orders
// accepted before it still open.
func (o *queued) advance(t time.Time) {
	if t.Before(o.accept) {
		t = o.accept
	}
	for c := max(o.ahead+1, 1); c <= maxParallel; c++ {
		if o.start[c-1].IsZero() {
			o.start[c-1] = t
		}
	}
}

// leave stops tracking an order at t; a ready one teaches every c's fit
// its service time. The orders behind it move up.
func (q *kitchenQueue) leave(id string, t time.Time, ready bool) {
	o, ok := q.open[id]
	if !ok {
		return
	}
	delete(q.open, id)
	if ready {
		for c := range o.start {
			s := 1.0 // not started under c: a service of nothing, a bad fit for c
			if !o.start[c].IsZero() {
				s = max(t.Sub(o.start[c]).Seconds(), 1)
			}
			q.fit[c].learn(o.items, o.lines, s)
		}
	}
	for _, p := range q.open {
		if o.accept.Before(p.accept) && p.ahead > 0 {
			p.ahead--
			p.advance(t)
		}
	}
}

// best is the parallelism whose service residuals are narrowest, with
// the location and scale of the predictive distribution of a residual:
// the mean moved up (slower) by one standard error, so a fit on few
// orders is trusted less, and the sd widened for a new observation. ok
// is false before queueMinOrders.
func (q *kitchenQueue) best() (c int, loc, scale float64, ok bool) {
	var mean, sd float64
	sd = math.Inf(1)
	for i := range q.fit {
		r := &q.fit[i].res
		if r.n < queueMinOrders {
			return 0, 0, 0, false
		}
		if m, s := r.meanSD(); s < sd {
			c, mean, sd = i+1, m, s
		}
	}
	n := q.fit[c-1].res.n
	return c, mean + sd/math.Sqrt(n), max(sd*math.Sqrt(1+1/n), queueMinScale), true
}

// pReady is P(ready within d | in service under the best c since its
// start), a log-normal service time conditioned on what has passed. ok is
// false when the queue has no opinion (see service).
func (q *kitchenQueue) pReady(id string, now time.Time, d time.Duration) (p float64, ok bool) {
	sv, ok := q.service(id, now)
	if !ok || d <= 0 {
		return 0, false
	}
	return (sv.cdf(sv.in+d.Seconds()) - sv.f0) / (1 - sv.f0), true
}

// remaining is the median time left of an order's service; ok as pReady.
func (q *kitchenQueue) remaining(id string, now time.Time) (time.Duration, bool) {
	sv, ok := q.service(id, now)
	if !ok {
		return 0, false
	}
	u := sv.f0 + 0.5*(1-sv.f0)
	s := math.Exp(sv.mu + sv.scale*math.Sqrt2*math.Erfinv(2*u-1))
	return time.Duration(max(s-sv.in, 0) * float64(time.Second)), true
}

// inService is an order's service time distribution, log-normal with mu
// and scale, and how far it is into it: in seconds, f0 its CDF there.
type inService struct{ mu, scale, in, f0 float64 }

func (sv inService) cdf(s float64) float64 { return normCDF((math.Log(s) - sv.mu) / sv.scale) }

// service is where order id is in its service under the best c. ok is
// false when the queue has no opinion: too few bumps, an order it does
// not track or that has not started, or one already past what its
// service explains.
func (q *kitchenQueue) service(id string, now time.Time) (sv inService, ok bool) {
	o := q.open[id]
	if o == nil {
		return sv, false
	}
	c, loc, scale, ok := q.best()
	if !ok || o.start[c-1].IsZero() {
		return sv, false
	}
	sv = inService{mu: q.fit[c-1].predict(o.items, o.lines) + loc, scale: scale, in: max(now.Sub(o.start[c-1]).Seconds(), 1)}
	sv.f0 = sv.cdf(sv.in)
	return sv, 1-sv.f0 >= queueTail
}

// serviceFit learns service times under one parallelism: each SKU's log
// seconds per unit, shrunk toward the store's, and the out-of-sample
// residuals of log service time.
type serviceFit struct {
	all moments // log seconds per unit of every order
	sku map[string]*moments
	res moments
}

// unit is a SKU's expected seconds per unit; all is the store's mean log
// seconds per unit.
func (f *serviceFit) unit(sku string, all float64) float64 {
	if m := f.sku[sku]; m != nil {
		return math.Exp((m.s + skuPrior*all) / (m.n + skuPrior))
	}
	return math.Exp(all)
}

// predict is the log service time of an order of items units in lines:
// the sum of its lines' times.
func (f *serviceFit) predict(items int, lines []predict.SKUQty) float64 {
	all := f.all.s / max(f.all.n, 1)
	if len(lines) == 0 {
		return all + math.Log(float64(max(items, 1)))
	}
	sum := 0.0
	for _, l := range lines {
		sum += float64(max(l.Qty, 1)) * f.unit(l.SKU, all)
	}
	return math.Log(sum)
}

// learn teaches f an order that took s seconds of service. Its residual
// is taken first, out of sample. Each line's SKU learns the time the
// order left for it after the other lines' expected times (backfitting
// the sum), at least a tenth of the order's time.
func (f *serviceFit) learn(items int, lines []predict.SKUQty, s float64) {
	if f.all.n > 0 {
		f.res.add(min(max(math.Log(s)-f.predict(items, lines), -queueClip), queueClip))
	}
	all := math.Log(s / float64(max(items, 1)))
	if f.all.n > 0 {
		all = f.all.s / f.all.n
	}
	units := make([]float64, len(lines))
	total := 0.0
	for i, l := range lines {
		units[i] = f.unit(l.SKU, all)
		total += float64(max(l.Qty, 1)) * units[i]
	}
	if f.sku == nil {
		f.sku = map[string]*moments{}
	}
	for i, l := range lines {
		qty := float64(max(l.Qty, 1))
		u := max(s-(total-qty*units[i]), s/10) / qty
		m := f.sku[l.SKU]
		if m == nil {
			m = &moments{}
			f.sku[l.SKU] = m
		}
		m.add(math.Log(max(u, 1)))
	}
	f.all.add(math.Log(s / float64(max(items, 1))))
}

// moments are sums of values, decayed to remember about queueMemory.
type moments struct{ n, s, ss float64 }

func (m *moments) add(v float64) {
	if m.n >= queueMemory {
		k := 1 - 1.0/queueMemory
		m.n, m.s, m.ss = m.n*k, m.s*k, m.ss*k
	}
	m.n++
	m.s += v
	m.ss += v * v
}

// meanSD is the mean and sample sd of the values (n ≥ 2).
func (m *moments) meanSD() (mean, sd float64) {
	mean = m.s / m.n
	return mean, math.Sqrt(max(m.ss-m.n*mean*mean, 0) / (m.n - 1))
}

func normCDF(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }
