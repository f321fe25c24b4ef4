package e2e_test

import (
	"testing"
	"time"

	"github.com/passline/passline/wire"
)

// TestDemoDeliversWithin10s runs what `make demo` runs — the three demo
// configs from configs/demo, with ports and directories moved to random
// ports and temp dirs — and requires rider notifications within 10 s of
// the bridge starting, ready ones included soon after.
func TestDemoDeliversWithin10s(t *testing.T) {
	cc := shippedCloud(t, "demo")
	cc.LogLevel = "warn"
	cloud := startCloud(t, cc)

	ac := shippedAgent(t, "demo", cloud.NATSURL())
	ac.LogLevel = "warn"
	agent := startAgent(t, ac)

	notes := subscribe(t, cloud.NATSURL(), wire.RiderWildcard)

	bc := shippedBridge(t, "demo", agent.MQTTURL())
	bc.LogLevel = "warn"
	start := time.Now()
	startBridge(t, bc, nil)

	var first time.Duration
	kinds := map[wire.DecisionKind]int{}
	deadline := time.After(20 * time.Second)
	for kinds[wire.KindReady] == 0 {
		select {
		case m := <-notes:
			n, err := wire.DecodeNotification(m.Data)
			if err != nil {
				t.Fatalf("invalid notification: %v", err)
			}
			if n.Store != ac.Store {
				t.Fatalf("notification for store %q, want %q", n.Store, ac.Store)
			}
			if first == 0 {
				first = time.Since(start)
			}
			kinds[n.Kind]++
		case <-deadline:
			t.Fatalf("after 20s the rider saw %v; want a ready notification", kinds)
		}
	}
	t.Logf("first rider notification %v after the kitchen started; kinds so far %v", first.Round(time.Millisecond), kinds)
	if first > 10*time.Second {
		t.Errorf("first notification after %v, the demo promises 10s", first)
	}
}
