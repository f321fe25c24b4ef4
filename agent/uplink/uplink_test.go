package uplink_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/agent/bolt"
	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/agent/uplink"
	"github.com/passline/passline/wire"
)

func openDB(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.CheckInvariants(); err != nil {
			t.Errorf("invariants: %v", err)
		}
		db.Close()
	})
	return db
}

func fill(t *testing.T, db *bolt.DB, n int) {
	t.Helper()
	now := time.Now()
	err := db.Update(func(tx *bolt.Tx) error {
		for i := range n {
			d := wire.Decision{V: 1, ID: fmt.Sprintf("s1.o%d.eta.1", i), Store: "s1", OrderID: fmt.Sprintf("o%d", i),
				Kind: wire.KindETA, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			if _, err := tx.AppendOutbox(d, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestExtendsExistingStreamAndDrainsInOrder: a DECISIONS stream made by the
// cloud for other subjects gains ours (never loses its own), and 200
// decisions are published in outbox order, each once, then removed; made
// before the uplink started, they carry replayed=true.
func TestExtendsExistingStreamAndDrainsInOrder(t *testing.T) {
	n := at.StartNATS(t, t.TempDir(), -1)
	nc, err := nats.Connect(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: wire.StreamDecisions, Subjects: []string{"cloud.only"}}); err != nil {
		t.Fatal(err)
	}
	db := openDB(t)
	fill(t, db, 200)
	u := uplink.New(n.URL(), "s1", db)
	u.Log, u.Window = at.Quiet(), 16
	if err := u.Run(ctx); err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	at.Eventually(t, 20*time.Second, "outbox drained", func() bool {
		st, _ := db.Stats()
		return st.Outbox == 0
	})
	s, _ := js.Stream(ctx, wire.StreamDecisions)
	info, _ := s.Info(ctx)
	if !slices.Contains(info.Config.Subjects, "cloud.only") || !slices.Contains(info.Config.Subjects, wire.SubjectDecisions) {
		t.Errorf("stream subjects %v", info.Config.Subjects)
	}
	ds := at.Decisions(t, n.URL())
	if len(ds) != 200 {
		t.Fatalf("%d decisions in the stream", len(ds))
	}
	for i, d := range ds {
		// Made before the uplink started: sent late, so marked replayed.
		if d.OrderID != fmt.Sprintf("o%d", i) || !d.Replayed {
			t.Fatalf("stream[%d] = %s (replayed %v)", i, d.ID, d.Replayed)
		}
	}
	m, _ := s.GetMsg(ctx, 1)
	if m.Header.Get(wire.HeaderMsgID) != "s1.o0.eta.1" {
		t.Errorf("Nats-Msg-Id %q", m.Header.Get(wire.HeaderMsgID))
	}
	if st := u.Status(); st.Published != 200 || !st.Connected || st.LastSync.IsZero() {
		t.Errorf("status %+v", st)
	}
}
