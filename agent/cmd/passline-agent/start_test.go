package main_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/internal/freeport"
)

// TestHealthyStartLogsNoError starts the real agent twice on its embedded
// broker with persist: true (the second start finds the broker's and the
// agent's files from the first) and stops it with SIGTERM: a healthy
// start and stop log no ERROR line.
func TestHealthyStartLogsNoError(t *testing.T) {
	n := at.StartNATS(t, t.TempDir(), -1)
	dir := t.TempDir()
	httpAddr := freeport.Addr(t)
	mqttAddr := freeport.Addr(t)
	cfg := writeConfig(t, dir, "healthy", "embedded: {enabled: true, persist: true, listen: "+strconv.Quote(mqttAddr)+"}", n.URL(), httpAddr)
	rewriteLevel(t, cfg, "info")
	for i := 0; i < 2; i++ {
		cmd := startAgent(t, cfg, dir)
		at.Eventually(t, 30*time.Second, "agent serving MQTT", func() bool { return mqttConnected(httpAddr) })
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			t.Fatalf("start %d: exit after SIGTERM: %v", i+1, err)
		}
	}
	logb, err := os.ReadFile(filepath.Join(dir, "agent.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(logb, []byte("agent running")) {
		t.Fatalf("log has no start line:\n%s", logb)
	}
	for _, line := range bytes.Split(logb, []byte("\n")) {
		if bytes.Contains(line, []byte("level=ERROR")) {
			t.Errorf("healthy start logged an error: %s", line)
		}
	}
}

// rewriteLevel sets log_level in the config file at path.
func rewriteLevel(t *testing.T, path, level string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.Replace(b, []byte("log_level: warn"), []byte("log_level: "+level), 1)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
