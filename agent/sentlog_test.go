package agent_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/wire"
)

// TestSentLogJSONIsTheMap: an order's sent log is written and read as the
// map it replaced, so state dbs of either version read the same.
func TestSentLogJSONIsTheMap(t *testing.T) {
	at := time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC)
	m := map[wire.DecisionKind]agent.Sent{
		wire.KindReady: {ID: "s.o.ready.1", At: at, Count: 1, Withdrawn: true},
		wire.KindETA:   {ID: "s.o.eta.3", At: at.Add(time.Second), ETA: at.Add(time.Minute), Count: 3},
	}
	var l agent.SentLog
	for k, s := range m { // map order is random: Set must sort
		l.Set(k, s)
	}
	want, _ := json.Marshal(struct {
		Sent map[wire.DecisionKind]agent.Sent `json:"sent,omitempty"`
	}{m})
	got, err := json.Marshal(struct {
		Sent agent.SentLog `json:"sent,omitempty"`
	}{l})
	if err != nil || string(got) != string(want) {
		t.Fatalf("marshal: %s %v, want %s", got, err, want)
	}
	var back struct {
		Sent agent.SentLog `json:"sent,omitempty"`
	}
	if err := json.Unmarshal(want, &back); err != nil {
		t.Fatal(err)
	}
	for k, s := range m {
		if g, ok := back.Sent.Get(k); !ok || g != s {
			t.Errorf("%s: read %+v %v, want %+v", k, g, ok, s)
		}
	}
	if len(back.Sent) != len(m) || back.Sent.Count(wire.KindETA) != 3 || back.Sent.Count(wire.KindDelayed) != 0 {
		t.Errorf("read %+v", back.Sent)
	}
	empty, _ := json.Marshal(agent.Order{ID: "o"})
	var o agent.Order
	if err := json.Unmarshal([]byte(`{"id":"o","sent":null}`), &o); err != nil || o.Sent != nil {
		t.Errorf("null: %+v %v", o.Sent, err)
	}
	if containsSent(empty) {
		t.Errorf("an order with nothing sent writes sent: %s", empty)
	}
}

func containsSent(b []byte) bool {
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	_, ok := m["sent"]
	return ok
}
