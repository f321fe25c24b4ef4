package e2e_test

import (
	"testing"
	"time"

	"github.com/passline/passline/wire"
)

// TestDemoDeliversWithin10s runs what `make demo` runs — the three demo
// configs from configs/demo, with ports and directories moved to random
// ports and temp dirs — and requires rider notifications within 10 s of
// the bridge starting. The demo kitchen runs in real time, so it also
// holds the demo to its word: the first ready_soon promises a ready time,
// and the ready for that order must come within a factor of 2 of the
// promised wait (both measured from when the rider got the promise).
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
	var promise wire.Notification // the first ready_soon with an eta
	var promisedAt time.Time      // when the rider got it
	kinds := map[wire.DecisionKind]int{}
	deadline := time.After(150 * time.Second)
	for {
		select {
		case m := <-notes:
			now := time.Now()
			n, err := wire.DecodeNotification(m.Data)
			if err != nil {
				t.Fatalf("invalid notification: %v", err)
			}
			if n.Store != ac.Store {
				t.Fatalf("notification for store %q, want %q", n.Store, ac.Store)
			}
			if first == 0 {
				first = now.Sub(start)
				if first > 10*time.Second {
					t.Errorf("first notification after %v, the demo promises 10s", first)
				}
			}
			kinds[n.Kind]++
			if n.Kind == wire.KindReadySoon && n.ETA != nil && promise.ID == "" {
				promise, promisedAt = n, now
				t.Logf("%6.1fs %s: %q (eta %s)", now.Sub(start).Seconds(), n.OrderID, n.Text, n.ETA.Sub(now).Round(100*time.Millisecond))
			}
			if n.Kind != wire.KindReady || promise.ID == "" || n.OrderID != promise.OrderID {
				continue
			}
			promised, waited := promise.ETA.Sub(promisedAt), now.Sub(promisedAt)
			ratio := promised.Seconds() / waited.Seconds()
			t.Logf("%6.1fs %s: %q; promised a wait of %s, it was %s (ratio %.2f); first notification after %s; kinds %v",
				now.Sub(start).Seconds(), n.OrderID, n.Text, promised.Round(100*time.Millisecond), waited.Round(100*time.Millisecond),
				ratio, first.Round(time.Millisecond), kinds)
			if ratio < 0.5 || ratio > 2 {
				t.Errorf("the first ready_soon promised %s, the ready came after %s: not within 2x", promised, waited)
			}
			return
		case <-deadline:
			t.Fatalf("after 150s the rider saw %v; want a ready_soon and the ready of its order", kinds)
		}
	}
}
