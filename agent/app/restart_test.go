package app_test

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/passline/passline/agent/app"
	"github.com/passline/passline/agent/bolt"
	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/agent/mqtt"
)

// TestEmbeddedBrokerRestartLosesNothing restarts a persistent mochi broker
// (sessions and in-flight messages in bbolt) twice under QoS 1 load: every
// event the broker acknowledged reaches the agent's state. (It once failed
// now and then: the check ran when a "last" marker event was applied, and
// mochi resends restored in-flight messages out of order; see waitApplied.)
func TestEmbeddedBrokerRestartLosesNothing(t *testing.T) {
	persist := filepath.Join(t.TempDir(), "broker.db")
	b := &mqtt.Broker{Listen: "127.0.0.1:0", Persist: persist, Log: at.Quiet()}
	if err := b.Run(); err != nil {
		t.Fatal(err)
	}
	addr := b.Addr()
	t.Cleanup(func() { b.Close() })
	n := at.StartNATS(t, t.TempDir(), -1)
	c := testConfig("s1", n.URL(), t.TempDir())
	c.MQTT.Embedded.Enabled, c.MQTT.URL = false, b.URL()
	m := startAgent(t, c)

	load := at.NewLoad(t, b.URL(), "s1")
	load.Start(2 * time.Millisecond)
	for i := 0; i < 2; i++ {
		time.Sleep(500 * time.Millisecond)
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(300 * time.Millisecond)
		b = &mqtt.Broker{Listen: addr, Persist: persist, Log: at.Quiet()}
		if err := b.Run(); err != nil {
			t.Fatalf("restart broker: %v", err)
		}
	}
	time.Sleep(500 * time.Millisecond)
	load.Stop()
	acked, _ := load.Results()
	t.Logf("%d events acked by the broker across 2 restarts", len(acked))
	waitApplied(t, m, acked)
}

// TestPersistentSessionAcrossAgentRestart runs against the real Mosquitto
// (PASSLINE_TEST_MQTT). The shared broker cannot be restarted, so this
// stops and restarts the agent mid-load instead: the broker keeps the
// agent's persistent session, and nothing it acknowledged is lost.
func TestPersistentSessionAcrossAgentRestart(t *testing.T) {
	url := at.Env(t, "PASSLINE_TEST_MQTT")
	n := at.StartNATS(t, t.TempDir(), -1)
	store := fmt.Sprintf("restart-%d", rand.IntN(1_000_000))
	c := testConfig(store, n.URL(), t.TempDir())
	c.MQTT.Embedded.Enabled, c.MQTT.URL = false, url
	m := startAgent(t, c)
	load := at.NewLoad(t, url, store)
	load.Start(2 * time.Millisecond)
	time.Sleep(500 * time.Millisecond)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	m2 := startAgent(t, c)
	time.Sleep(500 * time.Millisecond)
	load.Stop()
	acked, _ := load.Results()
	t.Logf("%d events acked by %s with the agent restarted once", len(acked), url)
	waitApplied(t, m2, acked)
}

// waitApplied waits until every acked event id is in the agent's state,
// failing with the missing ids after 30 s. It does not wait for a "last"
// marker event instead: MQTT orders QoS 1 messages only per topic, and
// mochi resends a restored session's in-flight messages in an order that
// is random within one second, so a marker applied says nothing about the
// events before it.
func waitApplied(t *testing.T, m *app.Main, acked []string) {
	t.Helper()
	var missing []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		missing = missing[:0]
		for _, id := range acked {
			if !seen(m, id) {
				missing = append(missing, id)
			}
		}
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(missing) > 0 {
		t.Errorf("%d of %d acked events missing from the agent's state after 30 s: %v", len(missing), len(acked), missing[:min(len(missing), 10)])
	}
}

func seen(m *app.Main, id string) bool {
	ok := false
	_ = m.DB.View(func(tx *bolt.Tx) error { ok = tx.Seen(id); return nil })
	return ok
}
