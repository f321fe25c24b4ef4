package app_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/agent"
	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/wire"
)

// twoStep decides eta on a ticket and ready on a bump, so every order has
// two decisions whose order in the stream can be checked.
type twoStep struct{}

func (twoStep) Decide(o *agent.Order, t agent.Trigger) []wire.Decision {
	if t.Event == nil {
		return nil
	}
	kind := wire.KindETA
	switch {
	case t.From == "" && o.Status == wire.StatusAccepted:
	case o.Status == wire.StatusDone && t.From != wire.StatusDone:
		kind = wire.KindReady
	default:
		return nil
	}
	d := agent.NewDecision(o, kind, t.Now, time.Hour)
	d.EventID = t.Event.ID
	return []wire.Decision{d}
}

// TestOfflineStoreAndForward stops NATS while 1,000 orders flow through the
// agent, restarts it, and checks every decision reached the stream exactly
// once, in order per order, marked replayed with its original time.
func TestOfflineStoreAndForward(t *testing.T) {
	const orders = 1000
	storeDir := t.TempDir()
	n := at.StartNATS(t, storeDir, -1)
	port := n.Port()
	m := runMain(t, testConfig("s1", n.URL(), t.TempDir()), twoStep{})
	pub := at.Publisher(t, "tcp://"+m.MQTTAddr())
	at.Eventually(t, 20*time.Second, "uplink connected", func() bool { return m.Uplink.Status().Connected })

	n.Stop()
	at.Eventually(t, 20*time.Second, "uplink sees the outage", func() bool { return !m.Uplink.Status().Connected })
	start := time.Now()
	for i := 0; i < orders; i++ {
		o := fmt.Sprintf("o%d", i)
		at.Publish(t, pub, at.Ticket("s1", o, "grill", start))
		at.Publish(t, pub, at.Bump("s1", o, start))
	}
	at.Eventually(t, 60*time.Second, "all events committed", func() bool { return m.Writer.Committed() == 2*orders })
	if st, _ := m.DB.Stats(); st.Outbox != 2*orders {
		t.Fatalf("outbox holds %d while offline, want %d", st.Outbox, 2*orders)
	}
	restarted := time.Now()
	n2 := at.StartNATS(t, storeDir, port)
	at.Eventually(t, 60*time.Second, "outbox drained", func() bool {
		st, _ := m.DB.Stats()
		return st.Outbox == 0
	})
	ds := at.Decisions(t, n2.URL())
	if len(ds) != 2*orders {
		t.Fatalf("stream holds %d decisions, want %d", len(ds), 2*orders)
	}
	seen := map[string]bool{}
	next := map[string]wire.DecisionKind{}
	for _, d := range ds {
		if seen[d.ID] {
			t.Fatalf("decision %s twice in the stream", d.ID)
		}
		seen[d.ID] = true
		want := next[d.OrderID]
		if want == "" {
			want = wire.KindETA
		}
		if d.Kind != want {
			t.Fatalf("order %s: %s before its eta", d.OrderID, d.Kind)
		}
		next[d.OrderID] = wire.KindReady
		if !d.Replayed || !d.CreatedAt.Before(restarted) || !strings.HasPrefix(d.ID, "s1."+d.OrderID+".") {
			t.Fatalf("decision %s: replayed %v created %s (restart %s)", d.ID, d.Replayed, d.CreatedAt, restarted)
		}
	}
	if len(next) != orders {
		t.Errorf("%d orders in the stream, want %d", len(next), orders)
	}
}

// TestStreamRecreatedWhenDeleted deletes the DECISIONS stream under a
// running agent: the uplink gets "no responders"/"stream not found",
// re-creates the stream and delivers the next decision.
func TestStreamRecreatedWhenDeleted(t *testing.T) {
	n := at.StartNATS(t, t.TempDir(), -1)
	m := startAgent(t, testConfig("s1", n.URL(), t.TempDir()))
	pub := at.Publisher(t, "tcp://"+m.MQTTAddr())
	now := time.Now()
	at.Publish(t, pub, at.Ticket("s1", "o1", "grill", now.Add(-time.Minute)))
	at.Publish(t, pub, at.Bump("s1", "o1", now))
	at.Eventually(t, 20*time.Second, "first ready", func() bool { return len(at.Readies(at.Decisions(t, n.URL()))) == 1 })

	nc, err := natsgo.Connect(n.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if err := js.DeleteStream(t.Context(), wire.StreamDecisions); err != nil {
		t.Fatal(err)
	}
	at.Publish(t, pub, at.Ticket("s1", "o2", "grill", now.Add(-time.Minute)))
	at.Publish(t, pub, at.Bump("s1", "o2", now))
	at.Eventually(t, 30*time.Second, "ready in the re-created stream", func() bool {
		r := at.Readies(at.Decisions(t, n.URL()))
		return r["o2"] == 1
	})
}
