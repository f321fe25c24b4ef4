package app_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/cloud/relaytest"
)

// slowBody sends a POST to addr announcing a 4000-byte body and then one
// byte every 200 ms, and returns how long the server kept the connection
// open (it gives up after limit).
func slowBody(t *testing.T, addr, path string, limit time.Duration) time.Duration {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4000\r\n\r\n", path)
	closed := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, conn) // returns when the server closes
		close(closed)
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-closed:
			return time.Since(start)
		case <-tick.C:
			if time.Since(start) > limit {
				return time.Since(start)
			}
			_, _ = conn.Write([]byte("a"))
		}
	}
}

// TestSlowBodyIsCutOff: a client that trickles its body into /oauth/token
// is disconnected once http.read_timeout has passed, instead of holding a
// connection and a handler forever.
func TestSlowBodyIsCutOff(t *testing.T) {
	cfg := relaytest.Config(t.TempDir())
	cfg.HTTP.ReadTimeout = time.Second
	m := relaytest.MustRun(t, cfg)
	took := slowBody(t, m.HTTPAddr(), "/oauth/token", 8*time.Second)
	if took > 5*time.Second {
		t.Fatalf("a 1 byte per 200 ms body held the connection for %v; read_timeout is 1s", took)
	}
	t.Logf("a 1 byte per 200 ms body was cut off after %v (read_timeout 1s)", took.Round(10*time.Millisecond))
}

// TestBodyCapBeforeHandlers: http.max_body caps every request body before
// a handler reads it, below the API's own limit.
func TestBodyCapBeforeHandlers(t *testing.T) {
	cfg := relaytest.Config(t.TempDir())
	cfg.HTTP.MaxBody = 1024
	m := relaytest.MustRun(t, cfg)
	body := `{"v":1,"store":"s1","order_id":"o1","rider":"r1","pad":"` + strings.Repeat("x", 2048) + `"}`
	resp, err := http.Post("http://"+m.HTTPAddr()+"/v1/assignments", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge && !bytes.Contains(b, []byte("too_large")) {
		t.Fatalf("a 2 KiB body with max_body 1024 = %d %s, want it refused as too large", resp.StatusCode, b)
	}
}

// TestStreamsOutliveTimeouts: the rider page's stream stays open past
// http.read_timeout and http.write_timeout and still delivers.
func TestStreamsOutliveTimeouts(t *testing.T) {
	cfg := relaytest.Config(t.TempDir())
	cfg.HTTP.ReadTimeout, cfg.HTTP.WriteTimeout = time.Second, time.Second
	m := relaytest.MustRun(t, cfg)
	nc, js := relaytest.Connect(t, m.NATSURL())
	for _, path := range []string{"/riders/rider-3/events", "/v1/riders/rider-3/events"} {
		resp, err := http.Get("http://" + m.HTTPAddr() + path)
		if err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 64)
		go func() {
			defer close(lines)
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() {
				lines <- sc.Text()
			}
		}()
		time.Sleep(2500 * time.Millisecond) // past both timeouts
		id := "late-" + strings.ReplaceAll(path, "/", "")
		if err := relaytest.Assign(nc, "s1", "o-"+id, "rider-3"); err != nil {
			t.Fatal(err)
		}
		if err := relaytest.Publish(t.Context(), js, relaytest.Decision(id, "s1", "o-"+id, "ready")); err != nil {
			t.Fatal(err)
		}
		deadline := time.After(15 * time.Second)
	wait:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("%s: stream closed before %s arrived", path, id)
				}
				if strings.Contains(l, id) {
					break wait
				}
			case <-deadline:
				t.Fatalf("%s: no %s within 15s", path, id)
			}
		}
		resp.Body.Close()
	}
}
