// Package kpisync reads the store's readiness KPIs of today from the cloud
// for the pass board: the hours of KV wire.BucketKPIHours under the store's
// own keys (the box's credentials may read only those), written by the
// cloud from what the delivery platforms and the rider app reported. Rider
// wait is known only there: the kitchen never sees a rider arrive.
//
// It polls with direct gets on the agent's NATS connection (shared with
// the uplink, which owns it): the current and the previous hour every
// Every, every hour of today every 10 × Every, so a box costs the cluster
// about two gets a minute. Offline, the board keeps the last figures and
// says when they were read.
package kpisync

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/wire"
)

// Today is the store's rider-side outcome since local midnight, as far as
// the cloud knows it.
type Today struct {
	// ReadAt is when the figures were read from the cloud.
	ReadAt time.Time `json:"read_at"`
	// Orders is how many orders of today the cloud has seen (not
	// cancelled); Arrivals how many had a rider arrival reported.
	Orders   int `json:"orders"`
	Arrivals int `json:"arrivals"`
	// RiderWaitS is the mean arrival → pickup wait over RiderWaitN
	// orders, nil with no arrival data; AvoidableWaitS the mean of the
	// part before the food was ready.
	RiderWaitS     *float64 `json:"rider_wait_s"`
	RiderWaitN     int      `json:"rider_wait_n"`
	AvoidableWaitS *float64 `json:"avoidable_wait_s"`
	// Hours are today's hours with a record, oldest first.
	Hours []Hour `json:"hours"`
}

// Hour is one hour's mean rider wait, nil with no arrival data.
type Hour struct {
	Start      time.Time `json:"start"`
	RiderWaitS *float64  `json:"rider_wait_s"`
}

// Poller keeps Today current. Set the fields before Run.
type Poller struct {
	Conn  *nats.Conn // the agent's, owned by the uplink; never closed here
	Store string
	Every time.Duration // 0 means a minute
	Now   func() time.Time
	Log   *slog.Logger

	mu    sync.Mutex
	hours map[time.Time]wire.KPIHour
	today *Today

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Run starts polling on its own goroutine and returns at once.
func (p *Poller) Run(ctx context.Context) error {
	ctx, p.cancel = context.WithCancel(ctx)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		p.loop(ctx)
	}()
	return nil
}

// Close stops polling.
func (p *Poller) Close() {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
}

// Today returns the last figures read, or nil before the first read.
func (p *Poller) Today() *Today {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.today == nil {
		return nil
	}
	t := *p.today
	return &t
}

func (p *Poller) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Poller) loop(ctx context.Context) {
	every := p.Every
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var kv jetstream.KeyValue
	for n := 0; ; n++ {
		var err error
		if kv == nil {
			kv, err = p.open(ctx)
		}
		if err == nil {
			err = p.poll(ctx, kv, n%10 == 0)
		}
		if err != nil && ctx.Err() == nil {
			p.Log.Debug("kpis of today not read", "err", err)
			kv, n = nil, -1 // reopen, and read all of today once it works
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (p *Poller) open(ctx context.Context) (jetstream.KeyValue, error) {
	js, err := jetstream.New(p.Conn)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return js.KeyValue(ctx, wire.BucketKPIHours)
}

// poll reads the current and the previous hour, or every hour of today
// when all is set, and recomputes Today.
func (p *Poller) poll(ctx context.Context, kv jetstream.KeyValue, all bool) error {
	now := p.now()
	y, m, d := now.Date()
	midnight := time.Date(y, m, d, 0, 0, 0, 0, now.Location()).UTC().Truncate(time.Hour)
	last := now.UTC().Truncate(time.Hour)
	first := last.Add(-time.Hour)
	if all || first.Before(midnight) {
		first = midnight
	}
	got := map[time.Time]wire.KPIHour{}
	for h := first; !h.After(last); h = h.Add(time.Hour) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		e, err := kv.Get(ctx, wire.KPIHourKey(p.Store, h))
		cancel()
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		var rec wire.KPIHour
		if err := json.Unmarshal(e.Value(), &rec); err != nil {
			p.Log.Warn("kpi hour not readable", "key", e.Key(), "err", err)
			continue
		}
		got[h] = rec
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if all || p.hours == nil {
		p.hours = map[time.Time]wire.KPIHour{}
	}
	for h := range p.hours {
		if _, ok := got[h]; h.Before(midnight) || !h.Before(first) && !ok {
			delete(p.hours, h) // yesterday's, or gone
		}
	}
	for h, rec := range got {
		p.hours[h] = rec
	}
	t := summarize(p.hours)
	t.ReadAt = now
	p.today = &t
	return nil
}

// summarize sums today's hours.
func summarize(hours map[time.Time]wire.KPIHour) Today {
	var t Today
	var wait, avoid float64
	var avoidN int
	starts := make([]time.Time, 0, len(hours))
	for h := range hours {
		starts = append(starts, h)
	}
	sort.Slice(starts, func(i, j int) bool { return starts[i].Before(starts[j]) })
	t.Hours = []Hour{}
	for _, h := range starts {
		var hw float64
		var hn int
		for _, o := range hours[h].Orders {
			if o.Cancelled {
				continue
			}
			t.Orders++
			if o.Arrived {
				t.Arrivals++
			}
			if o.RiderWait != nil {
				hw += *o.RiderWait
				hn++
			}
			if o.AvoidableWait != nil {
				avoid += *o.AvoidableWait
				avoidN++
			}
		}
		wait += hw
		t.RiderWaitN += hn
		t.Hours = append(t.Hours, Hour{Start: h, RiderWaitS: mean(hw, hn)})
	}
	t.RiderWaitS, t.AvoidableWaitS = mean(wait, t.RiderWaitN), mean(avoid, avoidN)
	return t
}

func mean(sum float64, n int) *float64 {
	if n == 0 {
		return nil
	}
	v := sum / float64(n)
	return &v
}
