package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/passline/passline/agent"
	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/wire"
)

// TestStoreConfigAppliedLiveAndBadOneRefused runs the real agent with the
// rules engine: a config put in KV (as the cloud API does) changes its
// decisions without a restart; a config with a broken rule is refused, the
// status key says why, and the agent keeps deciding on the previous one.
func TestStoreConfigAppliedLiveAndBadOneRefused(t *testing.T) {
	srv := at.StartNATS(t, t.TempDir(), -1)
	cfgKV, statusKV := at.ConfigBuckets(t, srv.URL())
	ctx := context.Background()
	c := testConfig("s1", srv.URL(), t.TempDir())
	c.Rules = []agent.Rule{{Name: "low_bar", Emit: wire.KindETA, When: `cooking && confidence_threshold <= 0.5 && !sent("eta")`}}
	m := runMain(t, c, nil)
	pub := at.Publisher(t, "tcp://"+m.MQTTAddr())

	status := func(rev uint64) wire.ConfigStatus {
		var st wire.ConfigStatus
		at.Eventually(t, 20*time.Second, "status of revision reported", func() bool {
			e, err := statusKV.Get(ctx, "s1")
			if err != nil || json.Unmarshal(e.Value(), &st) != nil {
				return false
			}
			return st.Revision == rev || st.RefusedRevision == rev
		})
		return st
	}
	// etaFor sends a ticket and reports whether an eta for it reached the
	// stream once the ticket is committed and the outbox has drained.
	opened := int64(0)
	etaFor := func(order string) bool {
		at.Publish(t, pub, at.Ticket("s1", order, "grill", time.Now().Add(-2*time.Minute)))
		opened++
		at.Eventually(t, 20*time.Second, "ticket "+order+" committed and published", func() bool {
			st, err := m.DB.Stats()
			return err == nil && st.OpenOrders == opened && st.Outbox == 0
		})
		for _, d := range at.Decisions(t, srv.URL()) {
			if d.OrderID == order && d.Kind == wire.KindETA {
				return true
			}
		}
		return false
	}

	if etaFor("o1") {
		t.Fatal("eta at the file config's threshold 0.85")
	}
	good, err := cfgKV.Put(ctx, "s1", []byte(`{"v":1,"params":{"confidence_threshold":0.4}}`))
	if err != nil {
		t.Fatal(err)
	}
	if st := status(good); st.Revision != good {
		t.Fatalf("good config not applied: %+v", st)
	}
	// The config watch rides on the uplink's connection: one per agent.
	if names := agentConns(t, srv, "s1-agent"); len(names) != 1 {
		t.Fatalf("agent holds %d NATS connections %v, want 1 shared by uplink and configsync", len(names), names)
	}
	if !etaFor("o2") {
		t.Fatal("no eta after threshold 0.4 was applied live")
	}
	bad, err := cfgKV.Put(ctx, "s1", []byte(`{"v":1,"params":{"confidence_threshold":0.9},"rules":[{"name":"oops","when":"cooking &&","emit":"eta"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	st := status(bad)
	if st.Revision != good || st.RefusedRevision != bad || !strings.Contains(st.Reason, `rules[0] "oops": line 1`) {
		t.Fatalf("bad config status %+v", st)
	}
	if !etaFor("o3") {
		t.Fatal("agent left the good config after refusing a bad one")
	}
}

// agentConns lists the names of the server's client connections that
// start with prefix.
func agentConns(t *testing.T, srv *at.NATS, prefix string) []string {
	t.Helper()
	cz, err := srv.Srv.Connz(&server.ConnzOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range cz.Conns {
		if strings.HasPrefix(c.Name, prefix) {
			names = append(names, c.Name)
		}
	}
	return names
}
