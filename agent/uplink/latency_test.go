package uplink_test

import (
	"context"
	"sync"
	"testing"
	"time"

	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/agent/uplink"
)

// TestAckLatencyObservesEachStoredDecision: every decision JetStream
// stores is observed once, with its age from creation to the ack; with a
// fake clock 3 s after creation, every observation is 3 s.
func TestAckLatencyObservesEachStoredDecision(t *testing.T) {
	n := at.StartNATS(t, t.TempDir(), -1)
	db := openDB(t)
	fill(t, db, 50)
	u := uplink.New(n.URL(), "s1", db)
	u.Log, u.Window = at.Quiet(), 8
	u.Now = func() time.Time { return time.Now().Add(3 * time.Second) }
	var mu sync.Mutex
	var seen []time.Duration
	u.ObserveAck = func(d time.Duration) {
		mu.Lock()
		seen = append(seen, d)
		mu.Unlock()
	}
	if err := u.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	at.Eventually(t, 20*time.Second, "outbox drained", func() bool {
		st, _ := db.Stats()
		return st.Outbox == 0
	})
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 50 {
		t.Fatalf("%d observations, want 50 (one per decision)", len(seen))
	}
	var sum time.Duration
	for _, d := range seen {
		sum += d
	}
	if mean := sum.Seconds() / 50; mean < 3 || mean > 4 {
		t.Errorf("mean latency %.3f s, want 3 s from the fake clock", mean)
	}
}
