package main_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/passline/passline/agent/app"
	"github.com/passline/passline/agent/bolt"
	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/internal/freeport"
)

// TestCrashLosesNothing SIGKILLs the real binary at random moments while a
// publisher sends tickets and bumps with QoS 1. Afterwards every bumped
// order has exactly one ready decision in the stream, and every event the
// broker acknowledged to the publisher is in the agent's state. It runs on
// the agent's own embedded broker with its default settings (the broker
// dies with the agent, so only what the agent committed before the PUBACK
// survives), and on an external broker: PASSLINE_TEST_MQTT (Mosquitto) or
// else a mochi broker in the test process. The default run kills 5 times;
// PASSLINE_CRASH_KILLS=25 (make crash-agent) kills more.
func TestCrashLosesNothing(t *testing.T) {
	kills := 5
	if v := os.Getenv("PASSLINE_CRASH_KILLS"); v != "" {
		kills, _ = strconv.Atoi(v)
	}
	t.Run("embedded", func(t *testing.T) {
		addr := freeport.Addr(t)
		crashLoop(t, kills, "tcp://"+addr, "embedded: {enabled: true, listen: "+strconv.Quote(addr)+"}")
	})
	t.Run("external", func(t *testing.T) {
		mqttURL := os.Getenv("PASSLINE_TEST_MQTT")
		if mqttURL == "" {
			mqttURL = at.Broker(t, "").URL()
		}
		crashLoop(t, kills, mqttURL, "url: "+strconv.Quote(mqttURL))
	})
}

// crashLoop runs the crash test against the broker at mqttURL; mqttConf is
// the agent config's mqtt section body.
func crashLoop(t *testing.T, kills int, mqttURL, mqttConf string) {
	store := fmt.Sprintf("crash-%d", rand.IntN(1_000_000))
	n := at.StartNATS(t, t.TempDir(), -1)
	dir := t.TempDir()
	httpAddr := freeport.Addr(t)
	cfgPath := writeConfig(t, dir, store, mqttConf, n.URL(), httpAddr)

	// The broker keeps messages for the agent's session only once the
	// agent has subscribed for the first time.
	first := startAgent(t, cfgPath, dir)
	at.Eventually(t, 30*time.Second, "first subscription", func() bool { return mqttConnected(httpAddr) })
	pub := at.NewLoad(t, mqttURL, store)
	pub.Start(2 * time.Millisecond)
	for i := 0; i < kills; i++ {
		cmd := first
		if i > 0 {
			cmd = startAgent(t, cfgPath, dir)
		}
		time.Sleep(time.Duration(100+rand.IntN(700)) * time.Millisecond)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
	}
	pub.Stop()
	cmd := startAgent(t, cfgPath, dir)
	// A last order after the load: once its ready is in the stream, every
	// earlier delivery has been committed.
	last := at.Publisher(t, mqttURL)
	at.Publish(t, last, at.Ticket(store, "last", "grill", time.Now().Add(-time.Minute)))
	at.Publish(t, last, at.Bump(store, "last", time.Now()))
	acked, bumped := pub.Results()
	acked = append(acked, "t-last", "b-last")
	bumped["last"] = true
	t.Logf("broker %s: %d kills, %d events acked by the broker, %d orders bumped", mqttURL, kills, len(acked), len(bumped))
	deadline := time.Now().Add(60 * time.Second)
	for unready(at.Readies(at.Decisions(t, n.URL())), bumped) > 0 {
		if time.Now().After(deadline) {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			_ = cmd.Wait()
			checkState(t, filepath.Join(dir, "state.db"), acked)
			logb, _ := os.ReadFile(filepath.Join(dir, "agent.log"))
			t.Fatalf("timed out: %d of %d bumped orders without a ready decision; agent log:\n%s",
				unready(at.Readies(at.Decisions(t, n.URL())), bumped), len(bumped), tail(logb, 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("agent exit after SIGTERM: %v", err)
	}
	// A bump committed just before a kill may never have had its PUBACK
	// written: its order has a ready the publisher does not know of.
	for order, k := range at.Readies(at.Decisions(t, n.URL())) {
		if k != 1 {
			t.Errorf("order %s: %d ready decisions (bump acked %v)", order, k, bumped[order])
		}
	}
	checkState(t, filepath.Join(dir, "state.db"), acked)
}

func mqttConnected(addr string) bool {
	resp, err := http.Get("http://" + addr + "/status")
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	var st app.Status
	return json.NewDecoder(resp.Body).Decode(&st) == nil && st.Links.MQTT.Connected
}

// unready counts the bumped orders with no ready decision.
func unready(readies map[string]int, bumped map[string]bool) int {
	n := 0
	for o := range bumped {
		if readies[o] == 0 {
			n++
		}
	}
	return n
}

func writeConfig(t *testing.T, dir, store, mqttConf, natsURL, httpAddr string) string {
	t.Helper()
	cfg := fmt.Sprintf(`store: %s
data_dir: %s
log_level: warn
lock_timeout: 10s
mqtt: {%s}
nats: {url: %q}
http: {listen: %q}
`, store, dir, mqttConf, natsURL, httpAddr)
	path := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func startAgent(t *testing.T, cfg, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(binary, "-config", cfg, "run")
	log, err := os.OpenFile(filepath.Join(dir, "agent.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	return cmd
}

// checkState opens the state db after the agent exited: invariants hold
// and every acked event id was applied.
func checkState(t *testing.T, path string, acked []string) {
	t.Helper()
	at.CheckInvariants(t, path)
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var missing []string
	_ = db.View(func(tx *bolt.Tx) error {
		for _, id := range acked {
			if !tx.Seen(id) {
				missing = append(missing, id)
			}
		}
		return nil
	})
	if len(missing) > 0 {
		t.Errorf("%d of %d broker-acked events missing from the agent's state: %.10v", len(missing), len(acked), missing)
	}
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
