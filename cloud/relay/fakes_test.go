package relay_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/relay"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/cloud/template"
	"github.com/passline/passline/wire"
)

// memMarks is an in-memory relay.Marks.
type memMarks struct {
	mu  sync.Mutex
	m   map[string]relay.Mark
	rev map[string]uint64
}

func (s *memMarks) Get(_ context.Context, id string) (relay.Mark, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[id], s.rev[id], nil
}

func (s *memMarks) Save(_ context.Context, id string, m relay.Mark, rev uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rev[id] != rev {
		return errors.New("wrong revision")
	}
	s.m[id], s.rev[id] = m, rev+1
	return nil
}

type memAssign struct {
	mu sync.Mutex
	m  map[string]wire.Assignment
}

func (s *memAssign) Get(_ context.Context, store, order string) (wire.Assignment, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.m[store+"."+order]
	return a, ok, nil
}

func (s *memAssign) Put(_ context.Context, a wire.Assignment) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[a.Store+"."+a.OrderID] = a
	return nil
}

// memPending parks decisions; Release hands them to the relay again.
type memPending struct {
	mu     sync.Mutex
	parked map[string][][]byte
	relay  *relay.Relay
}

func (p *memPending) Park(_ context.Context, d wire.Decision, raw []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.parked[d.Store+"."+d.OrderID] = append(p.parked[d.Store+"."+d.OrderID], raw)
	return nil
}

func (p *memPending) Release(ctx context.Context, store, order string) (int, error) {
	p.mu.Lock()
	raws := p.parked[store+"."+order]
	delete(p.parked, store+"."+order)
	p.mu.Unlock()
	for _, raw := range raws {
		p.relay.Handle(ctx, raw)
	}
	return len(raws), nil
}

type memETA struct {
	mu sync.Mutex
	m  map[string]string
}

func (l *memETA) AllowETA(_ context.Context, d wire.Decision) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := d.Store + "." + d.OrderID
	if id, ok := l.m[k]; ok {
		return id == d.ID, nil
	}
	l.m[k] = d.ID
	return true, nil
}

type memOrders struct {
	mu sync.Mutex
	m  map[string]wire.Decision
}

func (o *memOrders) Update(_ context.Context, d wire.Decision) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.m[d.OrderID] = d
	return nil
}

type profiles map[string]relay.Profile

func (p profiles) Profile(store string) relay.Profile { return p[store] }

// fakeChannel delivers by calling fn and records what it delivered.
type fakeChannel struct {
	name string
	fn   func(ctx context.Context, n wire.Notification) error
	// riderless makes it a relay.RiderlessChannel (a platform, the
	// customer).
	riderless bool
	mu        sync.Mutex
	got       []wire.Notification
}

func (c *fakeChannel) Name() string { return c.name }

func (c *fakeChannel) NeedsRider() bool { return !c.riderless }

func (c *fakeChannel) Deliver(ctx context.Context, n wire.Notification) error {
	var err error
	if c.fn != nil {
		err = c.fn(ctx, n)
	}
	if err == nil {
		c.mu.Lock()
		c.got = append(c.got, n)
		c.mu.Unlock()
	}
	return err
}

func (c *fakeChannel) delivered() []wire.Notification {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]wire.Notification(nil), c.got...)
}

type harness struct {
	relay    *relay.Relay
	marks    *memMarks
	assign   *memAssign
	pending  *memPending
	orders   *memOrders
	channels []*fakeChannel
}

// newHarness builds a relay over in-memory stores and the given channels,
// with a fixed clock.
func newHarness(t testing.TB, now time.Time, channels ...*fakeChannel) *harness {
	t.Helper()
	set, err := template.NewSet()
	if err != nil {
		t.Fatal(err)
	}
	var chs []cloud.Channel
	for _, c := range channels {
		chs = append(chs, c)
	}
	metrics := relay.NewMetrics(prometheus.NewRegistry())
	fan := relay.NewFanout(chs, 2, 200*time.Millisecond, nil, metrics)
	ctx, cancel := context.WithCancel(context.Background())
	fan.Start(ctx)
	t.Cleanup(func() { cancel(); fan.Close() })
	h := &harness{
		marks:    &memMarks{m: map[string]relay.Mark{}, rev: map[string]uint64{}},
		assign:   &memAssign{m: map[string]wire.Assignment{}},
		orders:   &memOrders{m: map[string]wire.Decision{}},
		channels: channels,
	}
	h.pending = &memPending{parked: map[string][][]byte{}}
	h.relay = &relay.Relay{
		Marks: h.marks, Assignments: h.assign, Pending: h.pending, ETALimit: &memETA{m: map[string]string{}},
		Orders: h.orders, Profiles: profiles{"s1": {Name: "Noodle Bar", Shelf: "B2", Locale: "en"}},
		Templates: set, Fanout: fan, Locale: "zh-CN", Now: func() time.Time { return now },
		Log: relaytest.Discard, Metrics: metrics, PhraseTimeout: time.Second,
	}
	h.pending.relay = h.relay
	return h
}

func raw(t testing.TB, d wire.Decision) []byte {
	t.Helper()
	b, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
