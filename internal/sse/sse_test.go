package sse_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/internal/sse"
)

// A stream started by Start reaches the client at once with its headers,
// outlives the server's write timeout, and delivers events as flushed.
func TestStartStreamsPastWriteTimeout(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc, err := sse.Start(w)
		if err != nil {
			t.Errorf("Start: %v", err)
			return
		}
		time.Sleep(300 * time.Millisecond) // past WriteTimeout
		fmt.Fprint(w, "data: late\n\n")
		if err := rc.Flush(); err != nil {
			t.Errorf("flush after the write timeout: %v", err)
		}
	}))
	srv.Config.WriteTimeout = 100 * time.Millisecond
	srv.Start()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	for k, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "data: late" {
		t.Fatalf("read %q, %v; want the event sent after the write timeout", line, err)
	}
}
