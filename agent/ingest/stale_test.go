package ingest_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passline/passline/agent/bolt"
	"github.com/passline/passline/agent/ingest"
	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/wire"
)

// TestStaleEventsAreRecordedButDecideNothing: a ticket and a bump stamped
// two days ago are applied (the orders are kept, the bumped one reaches
// history, their ids are remembered for dedupe) and counted as stale, but no rider
// is told anything, not on the events and not on timer ticks; a fresh pair
// still gets its ready.
func TestStaleEventsAreRecordedButDecideNothing(t *testing.T) {
	var acked atomic.Int64
	old := time.Now().Add(-48 * time.Hour)
	r := newRig(t, func(w *ingest.Writer) { w.Tick = 20 * time.Millisecond })
	ingestAll := func(evs ...wire.Event) {
		t.Helper()
		for _, ev := range evs {
			if err := r.w.Ingest(context.Background(), input(t, ev, &acked)); err != nil {
				t.Fatal(err)
			}
		}
	}
	ingestAll(at.Ticket("s1", "old", "grill", old), at.Ticket("s1", "old-open", "grill", old),
		at.Bump("s1", "old", old.Add(5*time.Minute)))
	time.Sleep(200 * time.Millisecond) // ten ticks over the stale open order
	st, err := r.db.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Outbox != 0 || st.OpenOrders != 1 || r.w.Stale() != 3 {
		es, _ := r.db.PeekOutbox(10)
		t.Fatalf("stale events: outbox %d %+v, open orders %d, stale %d; want 0, 1, 3", st.Outbox, es, st.OpenOrders, r.w.Stale())
	}
	_ = r.db.View(func(tx *bolt.Tx) error {
		for _, id := range []string{"t-old", "t-old-open", "b-old"} {
			if !tx.Seen(id) {
				t.Errorf("stale event %s not remembered", id)
			}
		}
		if !tx.InHistory("old") {
			t.Error("the stale bumped order did not reach history")
		}
		return nil
	})

	now := time.Now()
	ingestAll(at.Ticket("s1", "fresh", "grill", now.Add(-time.Minute)), at.Bump("s1", "fresh", now))
	es, _ := r.db.PeekOutbox(10)
	readies := 0
	for _, e := range es {
		if e.Decision.OrderID != "fresh" {
			t.Errorf("decision for a stale order: %+v", e.Decision)
		}
		if e.Decision.Kind == wire.KindReady {
			readies++
		}
	}
	if readies != 1 {
		t.Errorf("fresh order: %d ready decisions in %+v", readies, es)
	}
}
