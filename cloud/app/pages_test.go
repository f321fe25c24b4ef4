package app_test

import (
	"bufio"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/cloud/relaytest"
)

// TestPagesServedAndCloseEndsStreams: the ops and rider pages are mounted
// in front of the API, and Close neither waits for nor fails on an open
// rider stream.
func TestPagesServedAndCloseEndsStreams(t *testing.T) {
	m := relaytest.MustRun(t, relaytest.Config(t.TempDir()))
	base := "http://" + m.HTTPAddr()
	for path, want := range map[string]string{"/ops/": "ops.js", "/riders/rider-1/": "rider.js", "/healthz": "ok"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s = %d %.100s", path, resp.StatusCode, b)
		}
	}
	resp, err := http.Get(base + "/riders/rider-1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	if !sc.Scan() || sc.Text() != "event: hello" {
		t.Fatalf("rider stream starts with %q", sc.Text())
	}
	start := time.Now()
	if err := m.Close(); err != nil {
		t.Fatalf("close with an open rider stream: %v", err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("close took %s with an open rider stream", d)
	}
	for sc.Scan() {
	}
}
