package configsync_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/config"
	"github.com/passline/passline/agent/configsync"
	"github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/agent/rules"
	"github.com/passline/passline/agent/uplink"
	"github.com/passline/passline/wire"
)

// probe emits eta exactly when the confidence threshold is at most 0.5, so
// a decision shows which threshold the engine is deciding with.
var probe = agent.Rule{Name: "probe", When: `confidence_threshold <= 0.5 && !sent("eta")`, Emit: wire.KindETA}

// fixture is a real embedded NATS with the two buckets the cloud creates,
// a rules engine and a watcher applying to it.
type fixture struct {
	nats   *agenttest.NATS
	kv     jetstream.KeyValue
	status jetstream.KeyValue
	engine *rules.Engine
	w      *configsync.Watcher
	seen   chan wire.ConfigStatus
}

func setup(t *testing.T, before func(f *fixture)) *fixture {
	t.Helper()
	f := &fixture{nats: agenttest.StartNATS(t, t.TempDir(), -1), seen: make(chan wire.ConfigStatus, 64)}
	f.kv, f.status = agenttest.ConfigBuckets(t, f.nats.URL())
	if before != nil {
		before(f)
	}
	base := config.DefaultConfig()
	base.Store, base.MQTT.ClientID, base.Rules = "s1", "s1-agent", []agent.Rule{probe}
	var err error
	if f.engine, err = rules.New(base.Params, base.Rules); err != nil {
		t.Fatal(err)
	}
	f.w = configsync.New(f.conn(t), base, f.engine)
	f.w.Retry = 100 * time.Millisecond
	f.w.OnStatus = func(st wire.ConfigStatus) { f.seen <- st }
	if err := f.w.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.w.Close)
	return f
}

// conn is an agent connection to the fixture's server, with the uplink's
// options (reconnect forever, no reconnect buffer).
func (f *fixture) conn(t *testing.T) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(f.nats.URL(), uplink.StoreConnOptions("s1-agent", "s1", "", nil)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func (f *fixture) put(t *testing.T, body string) uint64 {
	t.Helper()
	rev, err := f.kv.Put(context.Background(), "s1", []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return rev
}

// wait returns the status once the watcher has handled revision rev.
func (f *fixture) wait(t *testing.T, rev uint64) wire.ConfigStatus {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case st := <-f.seen:
			if st.Revision == rev || st.RefusedRevision == rev {
				return st
			}
		case <-deadline:
			t.Fatalf("revision %d never handled; status %+v", rev, f.w.Status())
		}
	}
}

// reported reads the status key the cloud API serves.
func (f *fixture) reported(t *testing.T, rev uint64) wire.ConfigStatus {
	t.Helper()
	var st wire.ConfigStatus
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		e, err := f.status.Get(context.Background(), "s1")
		if err != nil {
			continue
		}
		if err := json.Unmarshal(e.Value(), &st); err != nil {
			t.Fatal(err)
		}
		if st.Revision == rev || st.RefusedRevision == rev {
			return st
		}
	}
	t.Fatalf("status key never reported revision %d (last %+v)", rev, st)
	return st
}

// decides reports whether the engine emits the probe's eta for a fresh order.
func decides(e *rules.Engine) bool {
	now := time.Now()
	o := &agent.Order{Store: "s1", ID: "o-" + now.Format("150405.000000000"), Status: wire.StatusAccepted,
		TicketSeen: true, AcceptedAt: now.Add(-time.Minute)}
	return len(e.Decide(o, agent.Trigger{Now: now})) == 1
}

func TestValidConfigChangesDecisionsLive(t *testing.T) {
	f := setup(t, nil)
	if decides(f.engine) {
		t.Fatal("probe fired at the file config's threshold 0.85")
	}
	rev := f.put(t, `{"params":{"confidence_threshold":0.4,"lead_time":"7m"},"locale":"en"}`)
	st := f.wait(t, rev)
	if st.Revision != rev || st.Reason != "" || st.AppliedAt.IsZero() {
		t.Fatalf("status %+v", st)
	}
	if !decides(f.engine) {
		t.Fatal("threshold 0.4 pushed, probe does not fire")
	}
	if p := f.engine.Params(); p.ConfidenceThreshold != 0.4 || p.LeadTime != 7*time.Minute || p.RetryInterval != 30*time.Second {
		t.Fatalf("engine params %+v", p)
	}
	if got := f.reported(t, rev); got.Revision != rev || got.Store != "s1" {
		t.Fatalf("reported %+v", got)
	}
	// Deleting the key returns the agent to its file config.
	if err := f.kv.Delete(context.Background(), "s1"); err != nil {
		t.Fatal(err)
	}
	f.wait(t, rev+1) // the delete marker is the next revision
	if decides(f.engine) {
		t.Fatal("key deleted, engine still on the pushed threshold")
	}
}

func TestStoredConfigAppliedAtStartup(t *testing.T) {
	var rev uint64
	f := setup(t, func(f *fixture) { rev = f.put(t, `{"params":{"confidence_threshold":0.3}}`) })
	f.wait(t, rev)
	if !decides(f.engine) || f.w.Current().Params.ConfidenceThreshold != 0.3 {
		t.Fatalf("startup value not applied: %+v", f.w.Current().Params)
	}
}

func TestInvalidConfigRefusedOldKept(t *testing.T) {
	f := setup(t, nil)
	good := f.put(t, `{"params":{"confidence_threshold":0.4}}`)
	f.wait(t, good)
	tests := []struct{ name, body, reason string }{
		{"broken rule", `{"rules":[{"name":"late","when":"elapsed >= ","emit":"delayed"}]}`, `rules[0] "late": line 1, column`},
		{"unknown name", `{"rules":[{"name":"ok","when":"true","emit":"eta"},{"name":"typo","when":"elapsd > 3","emit":"eta"}]}`, `rules[1] "typo"`},
		{"ready from a timer", `{"rules":[{"name":"r","when":"elapsed > 600","emit":"ready"}]}`, "kitchen event"},
		{"bad field", `{"params":{"confidence_threshold":1.5}}`, "params.confidence_threshold"},
		{"bad duration", `{"params":{"lead_time":"soon"}}`, "soon"},
		{"unknown field", `{"params":{"threshold":0.2}}`, "threshold"},
		{"not json", `{`, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rev := f.put(t, tt.body)
			st := f.wait(t, rev)
			if st.RefusedRevision != rev || st.Revision != good || !strings.Contains(st.Reason, tt.reason) {
				t.Fatalf("status %+v, want refused %d with %q, running %d", st, rev, tt.reason, good)
			}
			if got := f.reported(t, rev); got.Reason != st.Reason {
				t.Fatalf("reported %+v", got)
			}
			if !decides(f.engine) || f.engine.Params().ConfidenceThreshold != 0.4 {
				t.Fatalf("engine left the good config: %+v", f.engine.Params())
			}
		})
	}
}

func TestWatchResumesAfterServerRestart(t *testing.T) {
	f := setup(t, nil)
	first := f.put(t, `{"params":{"confidence_threshold":0.4}}`)
	f.wait(t, first)
	dir, port := f.nats.Opts.StoreDir, f.nats.Port()
	f.nats.Stop()
	f.nats = agenttest.StartNATS(t, dir, port)
	var rev uint64
	var once sync.Once
	for end := time.Now().Add(10 * time.Second); rev == 0 && time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		r, err := f.kv.Put(context.Background(), "s1", []byte(`{"params":{"confidence_threshold":0.9}}`))
		if err == nil {
			once.Do(func() { rev = r })
		}
	}
	if rev == 0 {
		t.Fatal("could not put after restart")
	}
	f.wait(t, rev)
	if decides(f.engine) || f.engine.Params().ConfidenceThreshold != 0.9 {
		t.Fatalf("config after restart not applied: %+v", f.engine.Params())
	}
}
