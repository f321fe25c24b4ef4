package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/bolt"
	"github.com/passline/passline/agent/ingest"
	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/wire"
)

type rig struct {
	db      *bolt.DB
	w       *ingest.Writer
	fail    atomic.Bool
	commits atomic.Int64 // write transactions tried
	mu      sync.Mutex
	batches []int
}

// newRig runs a writer over a fresh state db; cleanup stops it and checks
// the invariants.
func newRig(t *testing.T, prefill func(*ingest.Writer)) *rig {
	t.Helper()
	r := &rig{}
	db, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{BeforeCommit: func() error {
		r.commits.Add(1)
		if r.fail.Load() {
			return errors.New("write /state.db: no space left on device")
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	r.db = db
	r.w = ingest.NewWriter(db, "s1", 1024)
	r.w.Decider, r.w.Log = agent.BasicDecider{}, at.Quiet()
	r.w.Observe = func(n int, _ []time.Time) { r.mu.Lock(); r.batches = append(r.batches, n); r.mu.Unlock() }
	if prefill != nil {
		prefill(r.w)
	}
	if err := r.w.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.w.Close()
		if err := db.CheckInvariants(); err != nil {
			t.Errorf("invariants: %v", err)
		}
		db.Close()
	})
	return r
}

func input(t *testing.T, ev wire.Event, acked *atomic.Int64) agent.Input {
	t.Helper()
	b, err := ev.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return agent.Input{Topic: at.Topic(ev), Payload: b, Ack: func() { acked.Add(1) }, Received: time.Now()}
}

func TestBatchesUnderLoadOneWhenIdle(t *testing.T) {
	var acked atomic.Int64
	now := time.Now()
	r := newRig(t, func(w *ingest.Writer) {
		for i := 0; i < 300; i++ {
			w.Offer(input(t, at.Ticket("s1", fmt.Sprintf("o%d", i), "grill", now), &acked))
		}
	})
	at.Eventually(t, 20*time.Second, "300 acks", func() bool { return acked.Load() == 300 })
	r.w.Offer(input(t, at.Bump("s1", "o1", now), &acked))
	at.Eventually(t, 20*time.Second, "bump acked", func() bool { return acked.Load() == 301 })
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.batches[0] < 100 || r.batches[len(r.batches)-1] != 1 {
		t.Errorf("batches %v: want a big first batch and a single idle one", r.batches)
	}
	st, _ := r.db.Stats()
	if st.OpenOrders != 300 || st.Outbox != 1 {
		t.Errorf("stats %+v", st)
	}
}

func TestAckOnlyAfterCommitAndRecoverFromWriteErrors(t *testing.T) {
	var acked atomic.Int64
	r := newRig(t, nil)
	r.fail.Store(true)
	now := time.Now()
	r.w.Offer(input(t, at.Ticket("s1", "o1", "grill", now), &acked))
	r.w.Offer(input(t, at.Bump("s1", "o1", now), &acked))
	at.Eventually(t, 10*time.Second, "commit failures reported", func() bool { return r.w.CommitFailures() >= 2 && r.w.LastError() != "" })
	if acked.Load() != 0 {
		t.Fatalf("%d events acked while the disk was full", acked.Load())
	}
	r.fail.Store(false)
	at.Eventually(t, 20*time.Second, "acks after recovery", func() bool { return acked.Load() == 2 })
	if r.w.LastError() != "" {
		t.Errorf("last error kept after recovery: %s", r.w.LastError())
	}
	es, _ := r.db.PeekOutbox(10)
	if len(es) != 1 || es[0].Decision.ID != "s1.o1.ready.1" {
		t.Errorf("outbox after retries: %+v", es)
	}
}

func TestDuplicatesAndRefusals(t *testing.T) {
	var acked atomic.Int64
	r := newRig(t, nil)
	now := time.Now()
	tk := at.Ticket("s1", "o1", "grill", now)
	for _, in := range []agent.Input{
		input(t, tk, &acked), input(t, tk, &acked),
		input(t, at.Key("s1", "k1", wire.Key{Action: wire.KeyRecall, Station: "fryer"}, now), &acked),
		{Topic: "passline/v1/s1/printer/p1/ticket", Payload: []byte("{"), Ack: func() { acked.Add(1) }},
		{Topic: "elsewhere/x", Payload: []byte("{}"), Ack: func() { acked.Add(1) }},
		input(t, at.Bump("s1", "o1", now), &acked), input(t, at.Bump("s1", "o1", now), &acked),
	} {
		r.w.Offer(in)
	}
	at.Eventually(t, 20*time.Second, "all acked", func() bool { return acked.Load() == 7 })
	st, _ := r.db.Stats()
	want := map[string]int64{agent.ReasonDuplicate: 2, agent.ReasonUnknownOrder: 1, "malformed": 1, "topic": 1}
	for k, v := range want {
		if st.RejectCounts[k] != v {
			t.Errorf("reject %s = %d, want %d (%v)", k, st.RejectCounts[k], v, st.RejectCounts)
		}
	}
	if st.Outbox != 1 || st.Rejects != 3 {
		t.Errorf("outbox %d rejects kept %d", st.Outbox, st.Rejects)
	}
}

func TestTickClosesFinishedOrdersAndOrphans(t *testing.T) {
	var acked atomic.Int64
	clock := atomic.Int64{}
	start := time.Now()
	clock.Store(start.UnixNano())
	r := newRig(t, func(w *ingest.Writer) {
		w.Tick, w.FinishedTTL, w.OrphanTTL = 20*time.Millisecond, time.Hour, time.Hour
		w.Now = func() time.Time { return time.Unix(0, clock.Load()) }
	})
	r.w.Offer(input(t, at.Ticket("s1", "o1", "grill", start), &acked))
	r.w.Offer(input(t, at.Bump("s1", "o1", start), &acked))
	r.w.Offer(input(t, at.Bump("s1", "ghost", start), &acked))
	at.Eventually(t, 20*time.Second, "acks", func() bool { return acked.Load() == 3 })
	clock.Store(start.Add(2 * time.Hour).UnixNano())
	at.Eventually(t, 20*time.Second, "orders closed by the tick", func() bool {
		st, _ := r.db.Stats()
		return st.OpenOrders == 0 && st.History == 1 && st.RejectCounts[agent.ReasonUnknownOrder] == 1
	})
	var rec agent.HistoryRecord
	_ = r.db.History(func(h agent.HistoryRecord) error { rec = h; return nil })
	if rec.OrderID != "o1" || rec.Items != 2 || rec.Station != "grill" || rec.Status != wire.StatusDone {
		t.Errorf("history %+v", rec)
	}
}

type panicky struct{}

func (panicky) Decide(*agent.Order, agent.Trigger) []wire.Decision { panic("bad rule") }

func TestDeciderPanicDoesNotStopIngest(t *testing.T) {
	var acked atomic.Int64
	r := newRig(t, func(w *ingest.Writer) { w.Decider = panicky{} })
	r.w.Offer(input(t, at.Ticket("s1", "o1", "grill", time.Now()), &acked))
	at.Eventually(t, 20*time.Second, "acked", func() bool { return acked.Load() == 1 })
	if st, _ := r.db.Stats(); st.OpenOrders != 1 || r.w.DeciderPanics() != 1 {
		t.Errorf("open %d panics %d", st.OpenOrders, r.w.DeciderPanics())
	}
}
