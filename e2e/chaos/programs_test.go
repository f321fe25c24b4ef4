package chaos_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	agentapp "github.com/passline/passline/agent/app"
	"github.com/passline/passline/internal/freeport"
)

// agentProc is one store's passline-agent.
type agentProc struct {
	*proc
	store, http string
}

func newAgent(t *testing.T, bin, dir, store, mqttURL, natsURL string) *agentProc {
	t.Helper()
	a := &agentProc{store: store, http: freeport.Addr(t)}
	cfg := fmt.Sprintf("store: %s\ndata_dir: %s\nlog_level: warn\nmqtt:\n  url: %s\n  client_id: %s-agent\nnats:\n  url: %s\n  replicas: 3\n  replay_after: 30s\nhttp:\n  listen: %s\ningest:\n  auto_start: true\nretain:\n  finished_ttl: 1h\n",
		store, filepath.Join(dir, "state"), mqttURL, store, natsURL, a.http)
	path := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	a.proc = &proc{name: "agent " + store, bin: bin, args: []string{"-config", path, "run"}, logPath: filepath.Join(dir, "agent.log")}
	return a
}

// status reads the agent's /status.
func (a *agentProc) status() (agentapp.Status, error) {
	var st agentapp.Status
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + a.http + "/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func newRelay(t *testing.T, bin, dir, name, natsURL string) *proc {
	t.Helper()
	cfg := fmt.Sprintf(`nats: {url: %q}
data_dir: %q
http: {listen: "127.0.0.1:0"}
stream: {replicas: 3, duplicate_window: 30m, max_age: 2h}
consumer: {ack_wait: 5s, max_deliver: 50, backoff: [100ms, 500ms, 1s]}
relay: {channel_timeout: 2s, workers: 16, channel_workers: 16, connections: 2, outbox_duplicate: 30m}
demo: {auto_assign: true, riders: 20}
limits: {tiers: {standard: {per_minute: 0}}}
log_level: info
auth: {insecure_dev: true}
`, natsURL, dir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "cloud.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &proc{name: name, bin: bin, args: []string{"run", "-config", path}, ready: "passline-cloud serving", logPath: filepath.Join(dir, "cloud.log")}
}
