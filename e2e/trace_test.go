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

// TestTraceIDFollowsOneOrder runs the demo's three programs (simulated
// kitchen, agent, relay with auto-assigned riders) with their logs
// captured, takes the first ready notification a rider gets, and follows
// its trace id back: in the notification's NATS header, in the decision's
// NATS header, and in the logs of the relay, the agent and the bridge.
func TestTraceIDFollowsOneOrder(t *testing.T) {
	var cloudLog, agentLog, bridgeLog logBuffer
	cloud := startCloudWith(t, shippedCloud(t, "demo"), cloudLog.logger())
	ac := shippedAgent(t, "demo", cloud.NATSURL())
	agent := startAgentWith(t, ac, agentLog.logger())
	waitUntil(t, 20*time.Second, "agent subscribed to MQTT", agent.MQTTConnected)

	notes := subscribe(t, cloud.NATSURL(), wire.RiderWildcard)
	decisions := subscribe(t, cloud.NATSURL(), wire.DecisionSubject(ac.Store))

	startBridge(t, shippedBridge(t, "demo", agent.MQTTURL()), bridgeLog.logger())

	n, header := firstReady(t, notes)
	if n.TraceID == "" {
		t.Fatalf("ready notification for order %s carries no trace id: the bridge or agent did not set one", n.OrderID)
	}
	if header != n.TraceID {
		t.Errorf("notification header %s = %q, body trace_id %q", wire.HeaderTraceID, header, n.TraceID)
	}
	trace := n.TraceID
	t.Logf("following order %s by trace id %s", n.OrderID, trace)
	checkDecisionHeader(t, decisions, n.ID, trace)
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
// its trace id header.
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
				return n, m.Header.Get(wire.HeaderTraceID)
			}
		case <-deadline:
			t.Fatal("no ready notification within 30s of the simulated kitchen starting")
		}
	}
}

// checkDecisionHeader finds the decision the notification was made from
// and checks its trace id, in the body and the NATS header.
func checkDecisionHeader(t *testing.T, decisions <-chan *nats.Msg, id, trace string) {
	t.Helper()
	for {
		select {
		case m := <-decisions:
			d, err := wire.DecodeDecision(m.Data)
			if err != nil || d.ID != id {
				continue
			}
			if d.TraceID != trace || m.Header.Get(wire.HeaderTraceID) != trace {
				t.Errorf("decision %s: trace_id %q, header %q; want %q", id, d.TraceID, m.Header.Get(wire.HeaderTraceID), trace)
			}
			return
		default:
			t.Errorf("decision %s not seen on %s", id, "the decision subject")
			return
		}
	}
}
