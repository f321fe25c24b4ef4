package app_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBinaryRefusesOpenEmbeddedNATS: the built passline-cloud exits at
// start, naming the field, when its embedded NATS would listen beyond
// loopback without credentials. It binds nothing: validation refuses
// first.
func TestBinaryRefusesOpenEmbeddedNATS(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cloud.yaml")
	cfg := fmt.Sprintf("nats: {embedded: {enabled: true, listen: \"0.0.0.0:0\"}}\ndata_dir: %q\nhttp: {listen: \"127.0.0.1:0\"}\nauth: {insecure_dev: true}\n", dir)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, relayBinary(t), "run", "-config", path).CombinedOutput()
	if err == nil || ctx.Err() != nil || !strings.Contains(string(out), "nats.embedded.listen") || !strings.Contains(string(out), "nats.embedded.trust") {
		t.Fatalf("passline-cloud with an open embedded NATS: err %v, output:\n%s", err, out)
	}
}

// TestBinaryServesNothingPrivateWithoutToken runs the built passline-cloud
// with auth.key, as a stranger on the network would meet it: the rider
// stream and the ops data answer 401 without a token, a bad order id 400,
// and a client trickling a body into /oauth/token is cut off.
func TestBinaryServesNothingPrivateWithoutToken(t *testing.T) {
	p := runProcRelay(t, func(dir string) string {
		return fmt.Sprintf(`nats: {embedded: {enabled: true, listen: "127.0.0.1:0"}}
data_dir: %q
http: {listen: "127.0.0.1:0", read_timeout: 1s}
auth: {key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=, bcrypt_cost: 4}
demo: {auto_assign: true}
log_level: info
`, dir)
	})
	base := "http://" + p.httpAddr
	client := &http.Client{Timeout: 10 * time.Second}
	for path, want := range map[string]int{
		"/riders/rider-1/events":   401,
		"/riders/rider-1/":         401,
		"/ops/summary.json":        401,
		"/ops/events":              401,
		"/v1/stores/s1/orders/%3E": 400,
		"/healthz":                 200,
	} {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d %s, want %d", path, resp.StatusCode, b, want)
		}
	}
	if took := slowBody(t, p.httpAddr, "/oauth/token", 8*time.Second); took > 5*time.Second {
		t.Errorf("a trickled /oauth/token body held the connection %v; read_timeout is 1s", took)
	}
}
