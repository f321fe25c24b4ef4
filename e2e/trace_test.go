package e2e_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/passline/passline/internal/tracing"
	"github.com/passline/passline/wire"
)

// logBuffer collects one program's JSON log lines, safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// logger logs everything, debug included, as JSON into l.
func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// withTrace returns the log records that carry trace_id == id at any
// depth (slog groups nest attributes).
func (l *logBuffer) withTrace(id string) []map[string]any {
	l.mu.Lock()
	text := l.buf.String()
	l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(text, "\n") {
		var rec map[string]any
		if json.Unmarshal([]byte(line), &rec) == nil && hasTrace(rec, id) {
			out = append(out, rec)
		}
	}
	return out
}

func hasTrace(v any, id string) bool {
	m, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for k, x := range m {
		if k == "trace_id" && x == id || hasTrace(x, id) {
			return true
		}
	}
	return false
}

// TestTraceFollowsOneOrder runs the demo's three programs (simulated
// kitchen, agent, relay with auto-assigned riders), each exporting its
// spans by OTLP to a receiver in the test, with their logs captured. It
// takes the first ready notification a rider gets and follows its W3C
// traceparent header back through the received spans, parent by parent:
// the relay's deliver and consume spans, the agent's uplink publish,
// decide and ingest spans, and the bridge span that published the order's
// ticket, all in one trace. The ready's decide span links to the bump's
// own trace. Every program also logs the trace id.
func TestTraceFollowsOneOrder(t *testing.T) {
	otlp := newOTLPReceiver(t)
	on := tracing.Config{Endpoint: otlp.URL, BatchTimeout: 100 * time.Millisecond}
	var cloudLog, agentLog, bridgeLog logBuffer
	cc := shippedCloud(t, "demo")
	cc.Tracing = on
	cloud := startCloudWith(t, cc, cloudLog.logger())
	ac := shippedAgent(t, "demo", cloud.NATSURL())
	ac.Tracing = on
	agent := startAgentWith(t, ac, agentLog.logger())
	waitUntil(t, 20*time.Second, "agent subscribed to MQTT", agent.MQTTConnected)

	notes := subscribe(t, cloud.NATSURL(), wire.RiderWildcard)
	bc := shippedBridge(t, "demo", agent.MQTTURL())
	bc.Tracing = on
	bc.Sim.Kitchen.Speed = 10 // the trace is the point here, not the demo's pace
	startBridge(t, bc, bridgeLog.logger())

	n, header := firstReady(t, notes)
	sc := tracing.SpanContextOf(header)
	if !sc.IsValid() {
		t.Fatalf("ready notification for order %s: traceparent header %q is not a W3C traceparent", n.OrderID, header)
	}
	trace := sc.TraceID().String()
	if n.TraceID != trace {
		t.Errorf("notification trace_id %q, traceparent header's trace id %s", n.TraceID, trace)
	}
	t.Logf("following order %s, trace %s", n.OrderID, trace)
	chain := []struct{ service, name string }{
		{"passline-cloud", "relay.deliver"}, {"passline-cloud", "relay.consume"},
		{"passline-agent", "agent.uplink.publish"}, {"passline-agent", "agent.decide"},
		{"passline-agent", "agent.ingest"}, {"passline-bridge", "bridge.publish"},
	}
	id := sc.SpanID().String()
	var decide span
	for i, want := range chain {
		var s span
		waitUntil(t, 15*time.Second, "span "+want.name+" "+id+" exported", func() (ok bool) { s, ok = otlp.span(id); return ok })
		if s.Service != want.service || s.Name != want.name || s.TraceID != trace {
			t.Fatalf("hop %d: span %s is %s/%s in trace %s; want %s/%s in trace %s", i, id, s.Service, s.Name, s.TraceID, want.service, want.name, trace)
		}
		t.Logf("%s/%s %s parent %q %v", s.Service, s.Name, s.SpanID, s.ParentID, s.Attrs)
		switch s.Name {
		case "relay.deliver":
			if s.Attrs["passline.channel"] != "rider" {
				t.Errorf("deliver span on channel %q, want rider", s.Attrs["passline.channel"])
			}
		case "agent.decide":
			decide = s
		case "agent.ingest", "bridge.publish":
			if s.Attrs["passline.order_id"] != n.OrderID {
				t.Errorf("%s span is about order %q, want %q", s.Name, s.Attrs["passline.order_id"], n.OrderID)
			}
		}
		if i == len(chain)-1 {
			if s.ParentID != "" {
				t.Errorf("the bridge span has parent %s; it should start the trace", s.ParentID)
			}
			break
		}
		id = s.ParentID
	}
	if len(decide.LinkedSpanIDs) != 1 || decide.LinkTraceIDs[0] == trace {
		t.Fatalf("the ready's decide span links %v; want the bump's span in its own trace", decide.LinkedSpanIDs)
	}
	var bump span
	waitUntil(t, 15*time.Second, "the bump's ingest span exported", func() (ok bool) { bump, ok = otlp.span(decide.LinkedSpanIDs[0]); return ok })
	if bump.Name != "agent.ingest" || bump.Attrs["passline.event_kind"] != string(wire.EventKey) {
		t.Errorf("the ready links %s/%s %v, want the bump's agent.ingest", bump.Service, bump.Name, bump.Attrs)
	}
	for _, p := range []struct {
		name string
		log  *logBuffer
	}{{"firmware-bridge", &bridgeLog}, {"agent", &agentLog}, {"cloud", &cloudLog}} {
		var recs []map[string]any
		deadline := time.Now().Add(5 * time.Second) // a log line may follow the delivery
		for recs = p.log.withTrace(trace); len(recs) == 0 && time.Now().Before(deadline); recs = p.log.withTrace(trace) {
			time.Sleep(50 * time.Millisecond)
		}
		if len(recs) == 0 {
			t.Errorf("%s logged nothing with trace_id=%s", p.name, trace)
			continue
		}
		t.Logf("%s: %d records with the trace id, first: %v", p.name, len(recs), recs[0]["msg"])
	}
}

// firstReady waits for the first ready notification and returns it with
// its traceparent header.
func firstReady(t *testing.T, notes <-chan *nats.Msg) (wire.Notification, string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case m := <-notes:
			n, err := wire.DecodeNotification(m.Data)
			if err != nil {
				t.Fatalf("invalid notification: %v", err)
			}
			if n.Kind == wire.KindReady {
				return n, m.Header.Get(wire.HeaderTraceparent)
			}
		case <-deadline:
			t.Fatal("no ready notification within 30s of the simulated kitchen starting")
		}
	}
}
