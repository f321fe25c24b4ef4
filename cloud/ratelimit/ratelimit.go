// Package ratelimit guards the relay's incoming side: it enforces the HTTP
// API's tiered request limits of the product sheet, per API client: free
// 10 requests per second and 10,000 per day, enterprise 100 requests per
// second and no daily cap. Outgoing notifications to riders and merchants
// are capped by package quota, not here.
//
// The per-second limit is a sliding window: a client never gets more than
// PerSecond requests accepted in any one-second span. The daily cap counts
// accepted requests per calendar day in Location (UTC by default) and
// resets at its midnight. Refused requests do not count.
//
// The per-second window lives in this process's memory: with N relay
// replicas behind a round-robin load balancer a client can get up to N
// times PerSecond. Daily counts are per process too unless Limiter.Shared
// is set (a DayCounter such as natsjs.DayCounts), which makes the daily cap exact across replicas
// and restarts at the cost of a KV read and write per capped request.
package ratelimit

import (
	"context"
	"sync"
	"time"
)

// Plan is one tier's limits.
type Plan struct {
	PerSecond int // accepted requests in any one-second window
	PerDay    int // accepted requests per calendar day; 0 means no cap
}

// Plans are the product sheet's tiers. A client of an unknown tier gets
// the free plan.
var Plans = map[string]Plan{
	"free":       {PerSecond: 10, PerDay: 10_000},
	"enterprise": {PerSecond: 100},
}

// Limit names the limit a request hit.
type Limit string

// Limits a request can hit.
const (
	LimitSecond Limit = "per_second"
	LimitDay    Limit = "per_day"
)

// Decision is the answer for one request.
type Decision struct {
	Allowed    bool
	Limit      Limit         // which limit refused it
	RetryAfter time.Duration // when a retry can succeed
	Plan       Plan
	LeftToday  int // accepted requests left today; -1 with no daily cap
}

// Limiter counts requests per client. The zero value is not usable; use
// New.
type Limiter struct {
	// Shared, when set before use, keeps the daily counts for every
	// replica (natsjs.DayCounts), so the cap holds cluster-wide; the
	// per-second window stays per process. nil: counts are per process.
	Shared DayCounter
	// OnError is told when Shared fails; nil: ignored.
	OnError func(error)

	plans    map[string]Plan
	now      func() time.Time
	location *time.Location

	mu      sync.Mutex
	clients map[string]*window
	calls   int
}

// window is one client's recent acceptances and today's count.
type window struct {
	times []time.Time // ring of the last PerSecond acceptances
	next  int
	day   int // calendar day in the limiter's location, year*400+yday
	count int
	last  time.Time
}

// New returns a limiter with plans (Plans when nil), clock now (time.Now
// when nil) and day boundaries in loc (UTC when nil).
func New(plans map[string]Plan, now func() time.Time, loc *time.Location) *Limiter {
	if plans == nil {
		plans = Plans
	}
	if now == nil {
		now = time.Now
	}
	if loc == nil {
		loc = time.UTC
	}
	return &Limiter{plans: plans, now: now, location: loc, clients: map[string]*window{}}
}

func (l *Limiter) plan(tier string) Plan {
	if p, ok := l.plans[tier]; ok {
		return p
	}
	return l.plans["free"]
}

// dayOf returns t's calendar day number and the next midnight, in l's location.
func (l *Limiter) dayOf(t time.Time) (int, time.Time) {
	lt := t.In(l.location)
	y, m, d := lt.Date()
	return y*400 + lt.YearDay(), time.Date(y, m, d+1, 0, 0, 0, 0, l.location)
}

// Allow decides whether client (of tier) may make one more request now,
// and counts it when it may. It is AllowContext without a deadline.
func (l *Limiter) Allow(client, tier string) Decision {
	return l.AllowContext(context.Background(), client, tier)
}

// AllowContext is Allow; ctx bounds the Shared day counter's call. When
// Shared fails, the request is allowed (fail open) and OnError is told.
func (l *Limiter) AllowContext(ctx context.Context, client, tier string) Decision {
	p := l.plan(tier)
	now := l.now()
	day, nextMidnight := l.dayOf(now)
	shared := l.Shared != nil && p.PerDay > 0
	d := l.local(client, p, now, day, nextMidnight, !shared)
	if !d.Allowed || !shared {
		return d
	}
	ok, n, err := l.Shared.Take(ctx, client, now.In(l.location).Format("20060102"), p.PerDay)
	switch {
	case err != nil:
		if l.OnError != nil {
			l.OnError(err)
		}
		d.LeftToday = -1
	case !ok:
		d.Allowed, d.Limit, d.RetryAfter, d.LeftToday = false, LimitDay, nextMidnight.Sub(now), 0
	default:
		d.LeftToday = p.PerDay - n
	}
	return d
}

// local applies the per-second window and, when capDay, this process's
// daily count, recording an accepted request.
func (l *Limiter) local(client string, p Plan, now time.Time, day int, nextMidnight time.Time, capDay bool) Decision {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now, day)
	w := l.clients[client]
	if w == nil {
		w = &window{day: day}
		l.clients[client] = w
	}
	if len(w.times) != p.PerSecond { // new client, or its tier changed
		w.times, w.next = make([]time.Time, p.PerSecond), 0
	}
	if w.day != day {
		w.day, w.count = day, 0
	}
	d := Decision{Plan: p, LeftToday: -1}
	if capDay && p.PerDay > 0 {
		d.LeftToday = p.PerDay - w.count
		if w.count >= p.PerDay {
			d.Limit, d.RetryAfter = LimitDay, nextMidnight.Sub(now)
			return d
		}
	}
	if p.PerSecond > 0 {
		oldest := w.times[w.next] // the PerSecond-th most recent acceptance
		if !oldest.IsZero() && now.Sub(oldest) < time.Second {
			d.Limit, d.RetryAfter = LimitSecond, oldest.Add(time.Second).Sub(now)
			return d
		}
		w.times[w.next] = now
		w.next = (w.next + 1) % p.PerSecond
	}
	w.count++
	w.last = now
	if d.LeftToday > 0 {
		d.LeftToday--
	}
	d.Allowed = true
	return d
}

// sweep forgets, every 4096 calls, clients idle for over a second whose
// count is from an earlier day: they hold nothing that limits them.
func (l *Limiter) sweep(now time.Time, day int) {
	l.calls++
	if l.calls%4096 != 0 {
		return
	}
	for id, w := range l.clients {
		if w.day != day && now.Sub(w.last) > time.Second {
			delete(l.clients, id)
		}
	}
}

// Clients is how many clients the limiter currently remembers.
func (l *Limiter) Clients() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}
