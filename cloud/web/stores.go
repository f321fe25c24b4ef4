package web

import (
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/passline/passline/wire"
)

// StoreTracker watches every store's decision subject (wire.SubjectDecisions)
// on a core NATS subscription and remembers when each store last sent one.
// It sees the decisions of the whole cluster, not only this replica's. A
// store counts as online when it sent a decision within Window: the agent
// has no heartbeat, so an idle store with a working link shows offline.
type StoreTracker struct {
	Window time.Duration // 0 means 10 minutes
	Now    func() time.Time

	mu    sync.Mutex
	last  map[string]time.Time
	ring  [60]int64 // decisions per second, for the last minute
	ringT [60]int64 // the unix second each slot counts
	sub   *nats.Subscription
}

// Start subscribes on nc. Messages are counted in the NATS callback, which
// only takes a mutex for a map write.
func (t *StoreTracker) Start(nc *nats.Conn) error {
	sub, err := nc.Subscribe(wire.SubjectDecisions, func(m *nats.Msg) {
		if store, err := wire.ParseDecisionSubject(m.Subject); err == nil {
			t.Seen(store)
		}
	})
	if err != nil {
		return err
	}
	t.sub = sub
	return nil
}

// Close unsubscribes.
func (t *StoreTracker) Close() error {
	if t.sub == nil {
		return nil
	}
	return t.sub.Unsubscribe()
}

func (t *StoreTracker) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

// Seen records a decision from store now.
func (t *StoreTracker) Seen(store string) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last == nil {
		t.last = map[string]time.Time{}
	}
	t.last[store] = now
	sec := now.Unix()
	k := sec % int64(len(t.ring))
	if t.ringT[k] != sec {
		t.ring[k], t.ringT[k] = 0, sec
	}
	t.ring[k]++
}

// Rate is the decisions per second over the last span (at most a minute),
// not counting the current, unfinished second.
func (t *StoreTracker) Rate(span time.Duration) float64 {
	secs := int64(min(max(span, time.Second), 59*time.Second) / time.Second)
	now := t.now().Unix()
	t.mu.Lock()
	defer t.mu.Unlock()
	var n int64
	for s := now - secs; s < now; s++ {
		k := s % int64(len(t.ring))
		if t.ringT[k] == s {
			n += t.ring[k]
		}
	}
	return float64(n) / float64(secs)
}

// StoreSeen is one store's last decision.
type StoreSeen struct {
	Store        string    `json:"store"`
	LastDecision time.Time `json:"last_decision"`
	Online       bool      `json:"online"`
}

// Stores lists every store seen, online first, then by name.
func (t *StoreTracker) Stores() []StoreSeen {
	now, window := t.now(), or(t.Window, 10*time.Minute)
	t.mu.Lock()
	out := make([]StoreSeen, 0, len(t.last))
	for s, at := range t.last {
		out = append(out, StoreSeen{Store: s, LastDecision: at, Online: now.Sub(at) <= window})
	}
	t.mu.Unlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Online != out[j].Online {
			return out[i].Online
		}
		return out[i].Store < out[j].Store
	})
	return out
}
