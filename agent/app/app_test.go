package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/app"
	"github.com/passline/passline/agent/config"
	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/wire"
)

// testConfig is an agent on an embedded broker at a random port.
func testConfig(store, natsURL, dir string) config.Config {
	c := config.DefaultConfig()
	c.Store, c.DataDir = store, dir
	c.MQTT.ClientID = store + "-agent"
	c.MQTT.Embedded.Enabled, c.MQTT.Embedded.Listen = true, "127.0.0.1:0"
	c.NATS.URL = natsURL
	c.HTTP.Listen = "127.0.0.1:0"
	return c
}

// startAgent runs a Main with the built-in basic decider, so these tests
// pin the plumbing; cleanup closes it and checks the db invariants.
func startAgent(t *testing.T, c config.Config) *app.Main {
	t.Helper()
	return runMain(t, c, agent.BasicDecider{})
}

// runMain runs a Main with decider d (nil: the default, the rules engine),
// after setup, if any, has adjusted it.
func runMain(t testing.TB, c config.Config, d agent.Decider, setup ...func(*app.Main)) *app.Main {
	t.Helper()
	m := app.NewMain()
	m.Config, m.Log, m.Decider = c, at.Quiet(), d
	for _, f := range setup {
		f(m)
	}
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("run agent: %v", err)
	}
	t.Cleanup(func() {
		if m.DB == nil {
			return
		}
		path := m.StatePath()
		if err := m.Close(); err != nil {
			t.Errorf("close agent: %v", err)
		}
		at.CheckInvariants(t, path)
	})
	// A broker keeps messages for a session only once it has subscribed.
	at.Eventually(t, 20*time.Second, "agent subscribed", m.MQTTConnected)
	return m
}

// TestTicketAndBumpReachTheStream runs the default decider (the rules
// engine), as the real program does.
func TestTicketAndBumpReachTheStream(t *testing.T) {
	nats := at.StartNATS(t, t.TempDir(), -1)
	m := runMain(t, testConfig("s1", nats.URL(), t.TempDir()), nil)
	pub := at.Publisher(t, "tcp://"+m.MQTTAddr())
	now := time.Now()
	at.Publish(t, pub, at.Ticket("s1", "o1", "grill", now.Add(-2*time.Minute)))
	at.Publish(t, pub, at.Bump("s1", "o1", now))
	var ready wire.Decision
	at.Eventually(t, 20*time.Second, "ready decision in the stream", func() bool {
		for _, d := range at.Decisions(t, nats.URL()) {
			if d.Kind == wire.KindReady {
				ready = d
				return true
			}
		}
		return false
	})
	if ready.OrderID != "o1" || ready.EventID != "b-o1" || !strings.HasPrefix(ready.ID, "s1.o1.ready.") || ready.ShortCode != "#o1" {
		t.Errorf("ready decision = %+v", ready)
	}
	if len(ready.Flags) != 0 {
		t.Errorf("ready 2 min after accept flagged %v", ready.Flags)
	}
}

func TestBadPayloadsNeverStopTheFlow(t *testing.T) {
	nats := at.StartNATS(t, t.TempDir(), -1)
	c := testConfig("s1", nats.URL(), t.TempDir())
	c.Retain.Rejects = 2000
	m := startAgent(t, c)
	pub := at.Publisher(t, "tcp://"+m.MQTTAddr())
	now := time.Now()
	bad := badPayloads(now)
	const good = 50
	sent := 0
	for i := 0; i < 1000; i++ {
		if i%20 == 0 && i/20 < good {
			o := fmt.Sprintf("o%d", i/20)
			at.Publish(t, pub, at.Ticket("s1", o, "grill", now.Add(-time.Minute)))
			at.Publish(t, pub, at.Bump("s1", o, now))
			sent += 2
		}
		b := bad[i%len(bad)]
		at.PublishRaw(t, pub, b.topic, b.payload)
		sent++
	}
	at.Eventually(t, 60*time.Second, "every message committed", func() bool { return m.Writer.Committed() >= int64(sent) })
	at.Eventually(t, 30*time.Second, "50 ready decisions", func() bool { return len(at.Readies(at.Decisions(t, nats.URL()))) == good })
	for o, n := range at.Readies(at.Decisions(t, nats.URL())) {
		if n != 1 {
			t.Errorf("order %s has %d ready decisions", o, n)
		}
	}
	st, err := m.DB.Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"malformed": 334, "oversize": 333, "version": 333}
	for r, n := range want {
		if st.RejectCounts[r] != n {
			t.Errorf("rejects[%s] = %d, want %d (all: %v)", r, st.RejectCounts[r], n, st.RejectCounts)
		}
	}
	if st.Rejects != 1000 {
		t.Errorf("rejects kept = %d, want 1000", st.Rejects)
	}
	at.Eventually(t, 10*time.Second, "broker holds nothing unacked", func() bool { return m.Broker.Inflight("s1-agent") == 0 })
	rs, _ := m.DB.Rejects(3)
	if len(rs) != 3 || rs[0].Reason == "" || len(rs[0].Raw) == 0 || rs[0].Topic == "" {
		t.Errorf("newest rejects = %+v", rs)
	}
}

type rawMsg struct {
	topic   string
	payload []byte
}

func badPayloads(now time.Time) []rawMsg {
	topic := "passline/v1/s1/printer/printer1/ticket"
	v2, _ := json.Marshal(map[string]any{"v": 2, "id": "x", "kind": "ticket", "store": "s1", "device_id": "printer1", "at": now})
	return []rawMsg{
		{topic, []byte(`{"v":1,"id":`)},
		{topic, []byte(`{"v":1,"pad":"` + strings.Repeat("x", wire.MaxPayload) + `"}`)},
		{topic, v2},
	}
}

func TestHTTPStatusRejectsMetrics(t *testing.T) {
	nats := at.StartNATS(t, t.TempDir(), -1)
	m := startAgent(t, testConfig("s1", nats.URL(), t.TempDir()))
	pub := at.Publisher(t, "tcp://"+m.MQTTAddr())
	at.Publish(t, pub, at.Ticket("s1", "o1", "grill", time.Now()))
	at.PublishRaw(t, pub, "passline/v1/s1/printer/printer1/ticket", []byte("not json"))
	at.Eventually(t, 20*time.Second, "two commits", func() bool { return m.Writer.Committed() >= 2 })
	at.Eventually(t, 20*time.Second, "links up", func() bool { return m.MQTTConnected() && m.Uplink.Status().Connected })

	var st app.Status
	getJSON(t, m, "/status", &st)
	if len(st.OpenOrders) != 1 || st.OpenOrders[0].ID != "o1" || st.Rejects["malformed"] != 1 || !st.Links.MQTT.Connected || !st.Links.NATS.Connected {
		t.Errorf("status = %+v", st)
	}
	var rs []agent.Reject
	getJSON(t, m, "/rejects?limit=5", &rs)
	if len(rs) != 1 || rs[0].Reason != "malformed" || string(rs[0].Raw) != "not json" {
		t.Errorf("rejects = %+v", rs)
	}
	body := get(t, m, "/metrics")
	for _, want := range []string{"passline_agent_outbox_depth", `passline_agent_rejects_total{reason="malformed"} 1`, `passline_agent_link_up{link="nats"} 1`} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if got := get(t, m, "/healthz"); strings.TrimSpace(got) != "ok" {
		t.Errorf("healthz = %q", got)
	}
}

func get(t *testing.T, m *app.Main, path string) string {
	t.Helper()
	resp, err := http.Get("http://" + m.HTTPAddr() + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s %s", path, resp.Status, b)
	}
	return string(b)
}

func getJSON(t *testing.T, m *app.Main, path string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(get(t, m, path)), v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func TestSecondAgentOnSameStateFails(t *testing.T) {
	nats := at.StartNATS(t, t.TempDir(), -1)
	dir := t.TempDir()
	startAgent(t, testConfig("s1", nats.URL(), dir))
	c := testConfig("s1", nats.URL(), dir)
	c.Lock = 200 * time.Millisecond
	m := app.NewMain()
	m.Config, m.Log = c, at.Quiet()
	err := m.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "state db locked by another process") {
		t.Fatalf("second agent: %v", err)
	}
	if filepath.Base(m.StatePath()) != "state.db" {
		t.Errorf("state path %s", m.StatePath())
	}
}
