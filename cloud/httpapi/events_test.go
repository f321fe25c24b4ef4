package httpapi_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/passline/passline/cloud/httpapi"
	"github.com/passline/passline/cloud/natsd/natsdtest"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/token"
	"github.com/passline/passline/wire"
)

type event struct {
	id   string
	data string
}

type sseFixture struct {
	seq    atomic.Int64 // notification keys
	nc     *nats.Conn
	srv    *httptest.Server
	auth   *token.Authority
	events *httpapi.RiderEvents
}

func newSSEFixture(t *testing.T) *sseFixture {
	t.Helper()
	nc, js := natsdtest.JetStream(t)
	ctx := context.Background()
	name, err := natsjs.EnsureRiderStream(ctx, js, time.Hour, 1)
	if err != nil || name != natsjs.StreamRiders {
		t.Fatalf("EnsureRiderStream = %q, %v", name, err)
	}
	if again, err := natsjs.EnsureRiderStream(ctx, js, time.Hour, 1); err != nil || again != name {
		t.Fatalf("second EnsureRiderStream = %q, %v", again, err)
	}
	a, _ := token.NewHS256([]byte("0123456789abcdef0123456789abcdef"))
	auth := &httpapi.Auth{Verifier: a}
	mux := http.NewServeMux()
	ev := &httpapi.RiderEvents{JS: js, Heartbeat: 50 * time.Millisecond}
	mux.Handle("GET /v1/riders/{rider}/events", auth.RequireStream(httpapi.RequireRider("rider", ev)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &sseFixture{nc: nc, srv: srv, auth: a, events: ev}
}

// publish sends a notification for rider as the relay does (core NATS,
// captured by the stream) and waits until the stream has it.
func (f *sseFixture) publish(t *testing.T, rider, text string) {
	t.Helper()
	msg := fmt.Sprintf(`{"v":1,"rider":%q,"text":%q}`, rider, text)
	if err := f.nc.Publish(wire.RiderSubject(rider, fmt.Sprintf("k%d", f.seq.Add(1))), []byte(msg)); err != nil {
		t.Fatal(err)
	}
	if err := f.nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

// open connects to rider's stream with tok and lastID; events arrive on the channel.
func (f *sseFixture) open(t *testing.T, rider, tok, lastID string) (<-chan event, *http.Response, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/v1/riders/"+rider+"/events", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	events := make(chan event, 64)
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		close(events)
		return events, resp, cancel
	}
	go func() {
		defer close(events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		var e event
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "id: "):
				e.id = line[4:]
			case strings.HasPrefix(line, "data: "):
				e.data += line[6:]
			case line == "" && e.id != "":
				events <- e
				e = event{}
			}
		}
	}()
	t.Cleanup(cancel)
	return events, resp, cancel
}

func next(t *testing.T, events <-chan event) event {
	t.Helper()
	select {
	case e, ok := <-events:
		if !ok {
			t.Fatal("stream closed")
		}
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return event{}
}

func (f *sseFixture) riderToken(t *testing.T, rider string) string {
	t.Helper()
	tok, _, err := f.auth.Issue(token.Client{ID: "gw", Tier: token.TierEnterprise}, []string{token.RiderScope(rider)})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// waitSubscribed gives a fresh stream's consumer time to exist before
// publishing, by publishing probes until the first arrives.
func (f *sseFixture) waitSubscribed(t *testing.T, rider string, events <-chan event) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		f.publish(t, rider, "probe")
		select {
		case <-events:
			// drain further probes that may already be in flight
			for {
				select {
				case <-events:
				case <-time.After(200 * time.Millisecond):
					return
				}
			}
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatal("stream never delivered a probe")
}

func TestRiderEventsReplayMissed(t *testing.T) {
	f := newSSEFixture(t)
	tok := f.riderToken(t, "X")
	events, resp, disconnect := f.open(t, "X", tok, "")
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	f.waitSubscribed(t, "X", events)

	for i := 1; i <= 3; i++ {
		f.publish(t, "Y", fmt.Sprint("y-before-", i))
		f.publish(t, "X", fmt.Sprint("seen-", i))
	}
	var last event
	for i := 1; i <= 3; i++ {
		last = next(t, events)
		if !strings.Contains(last.data, fmt.Sprintf(`"text":"seen-%d"`, i)) {
			t.Fatalf("event %d = %+v", i, last)
		}
	}

	disconnect()
	for range events { // wait until the client is really gone
	}
	for i := 1; i <= 4; i++ {
		f.publish(t, "X", fmt.Sprint("missed-", i))
		f.publish(t, "Y", fmt.Sprint("y-while-away-", i))
	}

	again, _, _ := f.open(t, "X", tok, last.id)
	for i := 1; i <= 4; i++ {
		e := next(t, again)
		if !strings.Contains(e.data, fmt.Sprintf(`"text":"missed-%d"`, i)) {
			t.Fatalf("replayed event %d = %+v, want missed-%d", i, e, i)
		}
	}
	// Exactly the missed ones: the next event is the live one published now.
	f.publish(t, "X", "live")
	if e := next(t, again); !strings.Contains(e.data, `"text":"live"`) {
		t.Fatalf("after the replay got %+v, want the live event", e)
	}
}

func TestRiderEventsRefusals(t *testing.T) {
	f := newSSEFixture(t)
	tests := []struct {
		name, rider, tok, last string
		status                 int
	}{
		{"rider X token on Y's stream", "Y", f.riderToken(t, "X"), "", 403},
		{"no token", "X", "", "", 401},
		{"expired token", "X", expired(t, f.auth), "", 401},
		{"bad Last-Event-ID", "X", f.riderToken(t, "X"), "abc", 400},
		{"Last-Event-ID overflows", "X", f.riderToken(t, "X"), "18446744073709551615", 400},
		{"negative Last-Event-ID", "X", f.riderToken(t, "X"), "-1", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, resp, _ := f.open(t, tt.rider, tt.tok, tt.last)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
			}
		})
	}
}

func expired(t *testing.T, a *token.Authority) string {
	t.Helper()
	old := *a
	old.Now = func() time.Time { return time.Now().Add(-3 * time.Hour) }
	tok, _, err := old.Issue(token.Client{ID: "gw"}, []string{token.RiderScope("X")})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestRiderEventsCloseEndsStreams(t *testing.T) {
	f := newSSEFixture(t)
	tok := f.riderToken(t, "X")
	events, _, _ := f.open(t, "X", tok, "")
	f.waitSubscribed(t, "X", events)
	for i := range 50 { // messages in flight while the stream closes
		f.publish(t, "X", fmt.Sprint("busy-", i))
	}
	f.events.Close()
	f.events.Close() // twice is fine
	select {
	case _, ok := <-events:
		for ok {
			_, ok = <-events
		}
	case <-time.After(10 * time.Second):
		t.Fatal("stream still open after Close")
	}
	if _, resp, _ := f.open(t, "X", tok, ""); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("new stream after Close: %d", resp.StatusCode)
	}
}
