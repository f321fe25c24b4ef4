package ingest_test

import (
	"fmt"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/bolt"
	"github.com/passline/passline/agent/ingest"
	at "github.com/passline/passline/agent/internal/agenttest"
)

// bumped commits a ticket and a bump for each order, so each leaves one
// ready decision in the outbox, and returns removals for all of them.
func bumped(t *testing.T, r *rig, acked *atomic.Int64, orders ...string) []agent.Removal {
	t.Helper()
	now := time.Now()
	want := acked.Load()
	for _, o := range orders {
		r.w.Offer(input(t, at.Ticket("s1", o, "grill", now), acked))
		r.w.Offer(input(t, at.Bump("s1", o, now), acked))
		want += 2
	}
	at.Eventually(t, 20*time.Second, "events acked", func() bool { return acked.Load() == want })
	es, err := r.db.PeekOutbox(100)
	if err != nil || len(es) != len(orders) {
		t.Fatalf("outbox %+v (%v), want %d decisions", es, err, len(orders))
	}
	rs := make([]agent.Removal, len(es))
	for i, e := range es {
		rs[i] = agent.Removal{Key: e.Key}
	}
	return rs
}

func outboxDepth(t *testing.T, db *bolt.DB) int64 {
	t.Helper()
	st, err := db.Stats()
	if err != nil {
		t.Fatal(err)
	}
	return st.Outbox
}

func TestRemovalsRideTheNextEventsCommit(t *testing.T) {
	var acked atomic.Int64
	r := newRig(t, func(w *ingest.Writer) { w.RemoveLinger = time.Hour })
	rs := bumped(t, r, &acked, "o1", "o2")
	c0 := r.commits.Load()
	r.w.Remove(rs)
	r.w.Offer(input(t, at.Ticket("s1", "o3", "grill", time.Now()), &acked))
	at.Eventually(t, 20*time.Second, "ticket acked", func() bool { return acked.Load() == 5 })
	if n := r.commits.Load() - c0; n != 1 {
		t.Errorf("%d commits for one event and two removals, want 1", n)
	}
	if d := outboxDepth(t, r.db); d != 0 {
		t.Errorf("outbox depth %d after the removals rode the ticket's commit", d)
	}
}

func TestRemovalsCommittedAloneWhenDue(t *testing.T) {
	for _, tc := range []struct {
		name   string
		linger time.Duration
		max    int
	}{
		{"linger passed", 10 * time.Millisecond, 1024},
		{"max queued", time.Hour, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var acked atomic.Int64
			r := newRig(t, func(w *ingest.Writer) { w.RemoveLinger, w.RemoveMax = tc.linger, tc.max })
			rs := bumped(t, r, &acked, "o1", "o2")
			c0 := r.commits.Load()
			r.w.Remove(rs)
			at.Eventually(t, 10*time.Second, "removals applied", func() bool { return outboxDepth(t, r.db) == 0 })
			if n := r.commits.Load() - c0; n != 1 {
				t.Errorf("%d commits for the queued removals, want 1", n)
			}
		})
	}
}

func TestRemovalsWaitWhileNotDue(t *testing.T) {
	var acked atomic.Int64
	r := newRig(t, func(w *ingest.Writer) { w.RemoveLinger = time.Hour })
	rs := bumped(t, r, &acked, "o1")
	r.w.Remove(rs)
	// Three idle checks pass (250 ms each); the removal is not due.
	time.Sleep(800 * time.Millisecond)
	if d := outboxDepth(t, r.db); d != 1 {
		t.Errorf("outbox depth %d: the removal was committed before it was due", d)
	}
	r.w.Close()
	if d := outboxDepth(t, r.db); d != 0 {
		t.Errorf("outbox depth %d after Close, want the queued removal applied", d)
	}
}

func TestRemoveAfterCloseAppliesAtOnce(t *testing.T) {
	var acked atomic.Int64
	r := newRig(t, nil)
	rs := bumped(t, r, &acked, "o1", "o2", "o3")
	r.w.Close()
	r.w.Remove(rs[:2])
	es, err := r.db.PeekOutbox(10)
	if err != nil {
		t.Fatal(err)
	}
	keys := make([]uint64, len(es))
	for i, e := range es {
		keys[i] = e.Key
	}
	if !slices.Equal(keys, []uint64{rs[2].Key}) {
		t.Errorf("outbox keys %v after removing %v, want only %d", keys, fmt.Sprint(rs[:2]), rs[2].Key)
	}
}
