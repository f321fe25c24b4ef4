package ingest_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/bolt"
	"github.com/passline/passline/agent/ingest"
	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/agent/rules"
	"github.com/passline/passline/wire"
)

// TestRecallSupersedesReadyExactlyOnce, for the basic decider and the
// default rules: a bump tells the rider ready; a recall within the window
// puts a delayed flagged "recalled" (caused by the recall) behind it in the
// outbox; the next bump tells ready again under a new id; a recall after
// the window is refused, kept as a recall_window reject and logged, and
// changes nothing. Every decision id in the outbox is distinct, so
// JetStream's dedupe drops none of them and a replay resends the same ids.
func TestRecallSupersedesReadyExactlyOnce(t *testing.T) {
	for _, tt := range deciders(t) {
		t.Run(tt.name, func(t *testing.T) {
			var acked atomic.Int64
			logs := &at.Logs{}
			r := newRig(t, func(w *ingest.Writer) {
				w.Decider, w.RecallWindow = tt.decider(), 2*time.Minute
				w.Log = logs.Logger()
			})
			now := time.Now()
			for _, ev := range []wire.Event{
				at.Ticket("s1", "o1", "grill", now.Add(-4*time.Minute)),
				at.Key("s1", "b1", wire.Key{Action: wire.KeyBump, Station: "grill"}, now.Add(-90*time.Second)),
				at.Key("s1", "r1", wire.Key{Action: wire.KeyRecall, Station: "grill"}, now.Add(-30*time.Second)),
				at.Key("s1", "b2", wire.Key{Action: wire.KeyBump, Station: "grill"}, now),
				at.Key("s1", "r2", wire.Key{Action: wire.KeyRecall, Station: "grill"}, now.Add(121*time.Second)),
			} {
				if err := r.w.Ingest(context.Background(), input(t, ev, &acked)); err != nil {
					t.Fatal(err)
				}
			}
			es, err := r.db.PeekOutbox(20)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			ids := map[string]bool{}
			for _, e := range es {
				d := e.Decision
				if d.Kind == wire.KindETA || d.Kind == wire.KindReadySoon {
					continue // the model's, between the kitchen's
				}
				got = append(got, string(d.Kind)+"<"+d.EventID+">"+strings.Join(d.Flags, ","))
				if ids[d.ID] {
					t.Errorf("decision id %s twice in the outbox", d.ID)
				}
				ids[d.ID] = true
				if err := d.Validate(); err != nil {
					t.Errorf("decision %s invalid: %v", d.ID, err)
				}
			}
			want := []string{"ready<b1>", "delayed<r1>recalled", "ready<b2>"}
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("kitchen decisions %v, want %v", got, want)
			}
			o, err := order(r.db, "o1")
			if err != nil || o == nil || o.Status != wire.StatusDone || !o.Told(wire.KindReady) || o.Sent.Count(wire.KindReady) != 2 {
				t.Fatalf("order after the refused recall: %+v %v", o, err)
			}
			st, _ := r.db.Stats()
			if st.RejectCounts[agent.ReasonRecallWindow] != 1 {
				t.Errorf("recall_window rejects %d (%v)", st.RejectCounts[agent.ReasonRecallWindow], st.RejectCounts)
			}
			// The writer logs a batch's refusals right after acking it.
			at.Eventually(t, 5*time.Second, "the refused recall logged with its reason", func() bool {
				l := logs.String()
				return strings.Contains(l, "reason="+agent.ReasonRecallWindow) && strings.Contains(l, "past the 2m0s recall window")
			})
		})
	}
}

// deciders are the built-in decider and the rules engine with the
// default rules, each new per call.
func deciders(t *testing.T) []struct {
	name    string
	decider func() agent.Decider
} {
	engine := func() agent.Decider {
		e, err := rules.New(agent.DefaultParams(), rules.DefaultRules())
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	return []struct {
		name    string
		decider func() agent.Decider
	}{{"basic", func() agent.Decider { return agent.BasicDecider{} }}, {"rules", engine}}
}

// TestScanReportsReadyOnceAndRefusesUnknownCodes: a scan of the ticket's
// code is a real kitchen event, so it reports ready naming the scan; the
// same ticket scanned again reports nothing more; an unknown code is
// counted and kept as unknown_code and moves no order.
func TestScanReportsReadyOnceAndRefusesUnknownCodes(t *testing.T) {
	for _, tt := range deciders(t) {
		t.Run(tt.name, func(t *testing.T) {
			var acked atomic.Int64
			r := newRig(t, func(w *ingest.Writer) { w.Decider = tt.decider() })
			now := time.Now()
			for _, ev := range []wire.Event{
				at.Ticket("s1", "o1", "grill", now.Add(-4*time.Minute)),
				at.Ticket("s1", "o2", "grill", now.Add(-3*time.Minute)),
				at.Scan("s1", "sc1", "nope-42", now.Add(-2*time.Second)),
				at.Scan("s1", "sc2", "o2", now.Add(-time.Second)),
				at.Scan("s1", "sc3", "o2", now),
			} {
				if err := r.w.Ingest(context.Background(), input(t, ev, &acked)); err != nil {
					t.Fatal(err)
				}
			}
			es, _ := r.db.PeekOutbox(20)
			var readies []wire.Decision
			for _, e := range es {
				if e.Decision.Kind == wire.KindReady {
					readies = append(readies, e.Decision)
				}
			}
			if len(readies) != 1 || readies[0].OrderID != "o2" || readies[0].EventID != "sc2" {
				t.Fatalf("ready decisions after scans: %+v", readies)
			}
			st, _ := r.db.Stats()
			if st.RejectCounts[agent.ReasonUnknownCode] != 1 || st.OpenOrders != 2 {
				t.Errorf("unknown_code rejects %d, open orders %d", st.RejectCounts[agent.ReasonUnknownCode], st.OpenOrders)
			}
			if o, _ := order(r.db, "o1"); o == nil || o.Status != wire.StatusAccepted {
				t.Errorf("o1 moved by a wrong code: %+v", o)
			}
		})
	}
}

// order reads one open order from the state db.
func order(db *bolt.DB, id string) (o *agent.Order, err error) {
	err = db.View(func(tx *bolt.Tx) error {
		o, err = tx.Order(id)
		return err
	})
	return o, err
}
