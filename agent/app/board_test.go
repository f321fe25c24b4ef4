package app_test

import (
	"bufio"
	"net/http"
	"strings"
	"testing"
	"time"

	at "github.com/passline/passline/agent/internal/agenttest"
)

// TestBoardServedAndCloseEndsStreams: the pass board is mounted, its event
// stream sends the board, and Close neither waits for nor fails on an open
// stream (a kitchen tablet left on).
func TestBoardServedAndCloseEndsStreams(t *testing.T) {
	n := at.StartNATS(t, t.TempDir(), -1)
	m := startAgent(t, testConfig("board-1", n.URL(), t.TempDir()))
	if page := get(t, m, "/board/"); !strings.Contains(page, "board.js") {
		t.Fatalf("GET /board/ = %.200s", page)
	}
	resp, err := http.Get("http://" + m.HTTPAddr() + "/board/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), `data: {"store":"board-1"`) {
	}
	start := time.Now()
	if err := m.Close(); err != nil {
		t.Fatalf("close with an open board stream: %v", err)
	}
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Errorf("close took %s with an open board stream", d)
	}
	for sc.Scan() {
	}
}
