package app_test

import (
	"context"
	"testing"
	"time"

	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/wire"
)

// TestFleetPriorAppliedLiveAndMalformedOneRefused runs the real agent
// (rules engine, bbolt, embedded MQTT broker) on an embedded nats-server:
// the fleet prior put under the store's category in KV
// PASSLINE_MODEL_PRIOR reaches its model while it runs and changes its
// decisions; a malformed prior is refused and the model keeps the one it
// had; a later good prior is applied again.
func TestFleetPriorAppliedLiveAndMalformedOneRefused(t *testing.T) {
	srv := at.StartNATS(t, t.TempDir(), -1)
	priors := at.PriorBucket(t, srv.URL())
	ctx := context.Background()
	c := testConfig("s1", srv.URL(), t.TempDir())
	c.Category = "noodles"
	m := runMain(t, c, nil)
	pub := at.Publisher(t, "tcp://"+m.MQTTAddr())

	opened := int64(0)
	// readySoonFor sends a ticket accepted now and reports whether the
	// store told the rider ready_soon for it at once.
	readySoonFor := func(order string) bool {
		at.Publish(t, pub, at.Ticket("s1", order, "wok", time.Now()))
		opened++
		at.Eventually(t, 20*time.Second, "ticket "+order+" committed and published", func() bool {
			st, err := m.DB.Stats()
			return err == nil && st.OpenOrders == opened && st.Outbox == 0
		})
		for _, d := range at.Decisions(t, srv.URL()) {
			if d.OrderID == order && d.Kind == wire.KindReadySoon {
				return true
			}
		}
		return false
	}
	put := func(v []byte) uint64 {
		rev, err := priors.Put(ctx, "noodles", v)
		if err != nil {
			t.Fatal(err)
		}
		at.Eventually(t, 20*time.Second, "prior revision handled", func() bool {
			st := m.PriorSync.Status()
			return st.Applied == rev || st.Refused == rev
		})
		return rev
	}

	if readySoonFor("o1") {
		t.Fatal("ready_soon at accept on the default prior (about 7 min, wide)")
	}
	quick := at.FleetPrior(t, "noodles", 90) // the category's orders take a minute and a half
	good := put(quick)
	if !readySoonFor("o2") {
		t.Fatal("no ready_soon at accept after a 90 s prior was applied live")
	}
	bad := put([]byte(`{"version":1,"beta":[4.5],"sigma":0,"tau":0.2}`))
	if st := m.PriorSync.Status(); st.Applied != good || st.Refused != bad || st.Reason == "" {
		t.Fatalf("malformed prior: status %+v, want applied %d refused %d with a reason", st, good, bad)
	}
	if !readySoonFor("o3") {
		t.Fatal("the model left the good prior after refusing a malformed one")
	}
	put(at.FleetPrior(t, "noodles", 3600)) // an hour: nothing is ready soon
	if readySoonFor("o4") {
		t.Fatal("ready_soon at accept after an hour-long prior was applied")
	}
}
