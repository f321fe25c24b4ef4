package uplink_test

import (
	"context"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

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
	if err := u.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	at.Eventually(t, 20*time.Second, "outbox drained", func() bool {
		st, _ := db.Stats()
		return st.Outbox == 0
	})
	var m dto.Metric
	if err := u.AckLatency().Write(&m); err != nil {
		t.Fatal(err)
	}
	h := m.GetHistogram()
	if h.GetSampleCount() != 50 {
		t.Fatalf("%d observations, want 50 (one per decision)", h.GetSampleCount())
	}
	if mean := h.GetSampleSum() / 50; mean < 3 || mean > 4 {
		t.Errorf("mean latency %.3f s, want 3 s from the fake clock", mean)
	}
}
