package app_test

import (
	"testing"
	"time"

	at "github.com/passline/passline/agent/internal/agenttest"
)

// TestMosquittoRestartLosesNothing runs the agent on a persistent session
// against its own mosquitto process (persistence in a temp dir, a free
// loopback port) and restarts the broker three times, SIGTERM and start
// again, under QoS 1 load from a publisher that has a persistent session of
// its own and republishes what was not acked. Every event the broker
// acknowledged reaches the agent's state, and every bumped order has
// exactly one ready decision in the stream.
func TestMosquittoRestartLosesNothing(t *testing.T) {
	b := at.StartMosquitto(t)
	n := at.StartNATS(t, t.TempDir(), -1)
	c := testConfig("s1", n.URL(), t.TempDir())
	c.MQTT.Embedded.Enabled, c.MQTT.URL = false, b.URL()
	m := startAgent(t, c)

	load := at.NewLoad(t, b.URL(), "s1")
	load.Persistent = true
	load.Start(2 * time.Millisecond)
	const restarts = 3
	for i := 0; i < restarts; i++ {
		time.Sleep(400 * time.Millisecond)
		b.Restart(200 * time.Millisecond)
	}
	time.Sleep(400 * time.Millisecond)
	load.Stop()
	acked, bumped := load.Results()
	t.Logf("%d events acked by mosquitto across %d restarts, %d orders bumped", len(acked), restarts, len(bumped))
	if len(bumped) == 0 {
		t.Fatal("no bump acked: the load never ran")
	}
	waitApplied(t, m, acked)
	if t.Failed() {
		return // a lost event has no ready to wait for
	}
	at.Eventually(t, 30*time.Second, "a ready decision for every bumped order", func() bool {
		r := at.Readies(at.Decisions(t, n.URL()))
		for o := range bumped {
			if r[o] == 0 {
				return false
			}
		}
		return true
	})
	for o, k := range at.Readies(at.Decisions(t, n.URL())) {
		if k != 1 {
			t.Errorf("order %s has %d ready decisions", o, k)
		}
	}
}
