package webhook_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/breaker"
	"github.com/passline/passline/cloud/webhook"
	"github.com/passline/passline/wire"
)

var secret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func notification(id string) wire.Notification {
	now := time.Now().UTC()
	m := 4
	return wire.Notification{ID: id, Rider: "r1", Store: "s1", OrderID: "o-1", ShortCode: "#23", Kind: wire.KindReadySoon,
		Locale: "en", Text: "Order #23 ready in about 4 min", Minutes: &m, DecidedAt: now.Add(-time.Second), SentAt: now}
}

// receiver is a test endpoint that verifies every request like a real
// receiver and answers with status (or hangs while hang is set).
type receiver struct {
	t       *testing.T
	now     func() time.Time
	status  atomic.Int32
	hang    atomic.Bool
	release chan struct{}
	calls   atomic.Int32
	mu      sync.Mutex
	got     []wire.Notification
	events  []webhook.Event
}

func newReceiver(t *testing.T, now func() time.Time) (*receiver, *httptest.Server) {
	r := &receiver{t: t, now: now, release: make(chan struct{})}
	r.status.Store(http.StatusNoContent)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(r.release) }) // runs before srv.Close
	return r, srv
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.calls.Add(1)
	body, _ := io.ReadAll(req.Body) // the server notices a gone client only after the body is read
	if r.hang.Load() {
		select {
		case <-req.Context().Done():
		case <-r.release:
		}
		return
	}
	if err := webhook.Verify(secret, req.Header, body, r.now(), 0); err != nil {
		r.t.Errorf("receiver: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if ct := req.Header.Get("Content-Type"); ct != webhook.ContentType {
		r.t.Errorf("receiver: content type %q", ct)
	}
	ev, n, err := webhook.DecodeEvent(body)
	if err != nil {
		r.t.Errorf("receiver: %v", err)
	}
	if req.Header.Get(webhook.HeaderID) != ev.ID {
		r.t.Errorf("receiver: webhook-id %q, event id %q", req.Header.Get(webhook.HeaderID), ev.ID)
	}
	r.mu.Lock()
	r.got, r.events = append(r.got, n), append(r.events, ev)
	r.mu.Unlock()
	w.WriteHeader(int(r.status.Load()))
}

func channel(t *testing.T, url string, now func() time.Time, br breaker.Config, attempts int) *webhook.Channel {
	t.Helper()
	cfg := webhook.DefaultConfig()
	cfg.Timeout = 5 * time.Second
	cfg.Retry = breaker.Retry{Attempts: attempts, Initial: time.Millisecond, Max: 5 * time.Millisecond}
	cfg.Breaker = br
	cfg.Endpoints = []webhook.Endpoint{{Name: "merchant-a", URL: url, Secret: secret}}
	if err := cfg.Validate("webhook"); err != nil {
		t.Fatal(err)
	}
	chans, err := webhook.NewAll(cfg, webhook.Options{Now: now, Guard: loopback(t)})
	if err != nil {
		t.Fatal(err)
	}
	return chans[0]
}

func TestDeliverSignedCloudEvent(t *testing.T) {
	rcv, srv := newReceiver(t, time.Now)
	ch := channel(t, srv.URL, nil, breaker.Config{}, 1)
	var _ cloud.Channel = ch
	n := notification("d-1")
	if err := ch.Deliver(context.Background(), n); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if len(rcv.got) != 1 || rcv.got[0].ID != "d-1" || rcv.got[0].Text != n.Text {
		t.Fatalf("receiver got %+v", rcv.got)
	}
	ev := rcv.events[0]
	if ev.Type != "com.passline.rider.ready_soon" || ev.Source != "/passline/cloud" || ev.Subject != "o-1" ||
		ev.DataContentType != "application/json" || !ev.Time.Equal(n.DecidedAt.Truncate(0)) {
		t.Fatalf("event %+v", ev)
	}
}

func TestDeliverStatusClasses(t *testing.T) {
	tests := []struct {
		status    int
		wantCalls int32
		permanent bool
		ok        bool
	}{
		{200, 1, false, true},
		{202, 1, false, true},
		{400, 1, true, false},
		{404, 1, true, false},
		{408, 3, false, false},
		{429, 3, false, false},
		{500, 3, false, false},
		{503, 3, false, false},
	}
	for _, tt := range tests {
		t.Run(http.StatusText(tt.status), func(t *testing.T) {
			rcv, srv := newReceiver(t, time.Now)
			rcv.status.Store(int32(tt.status))
			ch := channel(t, srv.URL, nil, breaker.Config{Failures: 100}, 3)
			err := ch.Deliver(context.Background(), notification("d-1"))
			if (err == nil) != tt.ok || errors.Is(err, cloud.ErrPermanent) != tt.permanent {
				t.Errorf("Deliver = %v, want ok=%v permanent=%v", err, tt.ok, tt.permanent)
			}
			if got := rcv.calls.Load(); got != tt.wantCalls {
				t.Errorf("endpoint called %d times, want %d", got, tt.wantCalls)
			}
		})
	}
}

func TestBreakerOpensAndCloses(t *testing.T) {
	clk := &clock{t: time.Now()}
	rcv, srv := newReceiver(t, clk.Now)
	rcv.status.Store(500)
	ch := channel(t, srv.URL, clk.Now, breaker.Config{Failures: 3, CoolDown: 30 * time.Second}, 1)
	for i := range 3 {
		if err := ch.Deliver(context.Background(), notification("d-1")); err == nil || errors.Is(err, breaker.ErrOpen) {
			t.Fatalf("delivery %d: %v, want a 500 error", i, err)
		}
	}
	if ch.Breaker().State() != breaker.Open {
		t.Fatalf("breaker %v after 3 failures, want open", ch.Breaker().State())
	}
	err := ch.Deliver(context.Background(), notification("d-2"))
	if !errors.Is(err, breaker.ErrOpen) || rcv.calls.Load() != 3 {
		t.Fatalf("open breaker: Deliver = %v, endpoint calls %d; want ErrOpen and no new call", err, rcv.calls.Load())
	}
	rcv.status.Store(200)
	clk.Add(31 * time.Second)
	if err := ch.Deliver(context.Background(), notification("d-3")); err != nil {
		t.Fatalf("trial delivery after cool-down: %v", err)
	}
	if ch.Breaker().State() != breaker.Closed {
		t.Fatalf("breaker %v after a successful trial, want closed", ch.Breaker().State())
	}
}

func TestHangingEndpointBoundedAndIsolated(t *testing.T) {
	hung, hungSrv := newReceiver(t, time.Now)
	hung.hang.Store(true)
	healthy, healthySrv := newReceiver(t, time.Now)
	slow := channel(t, hungSrv.URL, nil, breaker.Config{Failures: 2, CoolDown: time.Hour}, 3)
	fast := channel(t, healthySrv.URL, nil, breaker.Config{}, 3)

	// The hanging delivery runs while the healthy one completes.
	hangDone := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		hangDone <- slow.Deliver(ctx, notification("d-1"))
	}()
	for hung.calls.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := fast.Deliver(context.Background(), notification("d-1")); err != nil {
		t.Fatalf("healthy channel: %v", err)
	}
	select {
	case err := <-hangDone:
		t.Fatalf("hanging delivery returned (%v) before the healthy one finished: test proves nothing", err)
	default:
	}
	select {
	case err := <-hangDone:
		if err == nil {
			t.Fatal("hanging endpoint reported success")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("hanging delivery not bounded by its 300 ms ctx deadline")
	}
	// A second timeout trips the breaker; then the endpoint is not called.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_ = slow.Deliver(ctx, notification("d-2"))
	calls := hung.calls.Load()
	if err := slow.Deliver(context.Background(), notification("d-3")); !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("after two timeouts: %v, want ErrOpen", err)
	}
	if hung.calls.Load() != calls || len(healthy.got) != 1 {
		t.Fatalf("open breaker still called the endpoint (%d -> %d)", calls, hung.calls.Load())
	}
}

func TestStoreFilterSkips(t *testing.T) {
	rcv, srv := newReceiver(t, time.Now)
	cfg := webhook.DefaultConfig()
	ch, err := webhook.New(cfg, webhook.Endpoint{Name: "m", URL: srv.URL, Secret: secret, Stores: []string{"other"}}, webhook.Options{Guard: loopback(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.Deliver(context.Background(), notification("d-1")); err != nil || rcv.calls.Load() != 0 {
		t.Fatalf("Deliver = %v with %d calls, want skip", err, rcv.calls.Load())
	}
}

func TestInvalidNotificationIsPermanent(t *testing.T) {
	rcv, srv := newReceiver(t, time.Now)
	ch := channel(t, srv.URL, nil, breaker.Config{}, 3)
	n := notification("d-1")
	n.Text = ""
	if err := ch.Deliver(context.Background(), n); !errors.Is(err, cloud.ErrPermanent) || rcv.calls.Load() != 0 {
		t.Fatalf("Deliver = %v (calls %d), want permanent and nothing sent", err, rcv.calls.Load())
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		ep   webhook.Endpoint
		want string
	}{
		{"bad name", webhook.Endpoint{Name: "a b", URL: "http://x", Secret: secret}, "webhook.endpoints[0].name"},
		{"bad url", webhook.Endpoint{Name: "a", URL: "ftp://x", Secret: secret}, "webhook.endpoints[0].url"},
		{"bad secret", webhook.Endpoint{Name: "a", URL: "http://x", Secret: "abc"}, "webhook.endpoints[0].secret"},
	}
	for _, tt := range tests {
		cfg := webhook.DefaultConfig()
		cfg.Endpoints = []webhook.Endpoint{tt.ep}
		err := cfg.Validate("webhook")
		if err == nil || len(err.Error()) < len(tt.want) || err.Error()[:len(tt.want)] != tt.want {
			t.Errorf("%s: Validate = %v, want prefix %q", tt.name, err, tt.want)
		}
	}
}
