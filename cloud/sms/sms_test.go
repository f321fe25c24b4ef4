package sms_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/breaker"
	"github.com/passline/passline/cloud/sms"
	"github.com/passline/passline/wire"
)

// gateway is a fake SMS gateway: it checks the API key and the JSON body,
// and answers with the scripted statuses in turn (200 after they run out).
type gateway struct {
	t        *testing.T
	mu       sync.Mutex
	statuses []int
	calls    int
	got      []sms.Message
	keys     []string
}

func newGateway(t *testing.T, statuses ...int) (*gateway, string) {
	g := &gateway{t: t, statuses: statuses}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return g, srv.URL + "/v1/send"
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.calls++
	if r.URL.Path != "/v1/send" || r.Header.Get("X-API-Key") != "k-123" || r.Header.Get("Content-Type") != "application/json" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var m sms.Message
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil || m.To == "" || m.Text == "" || m.Reference == "" {
		g.t.Errorf("gateway: bad body %+v (%v)", m, err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	g.got = append(g.got, m)
	g.keys = append(g.keys, r.Header.Get("Idempotency-Key"))
	status := http.StatusOK
	if g.calls <= len(g.statuses) {
		status = g.statuses[g.calls-1]
	}
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"message_id":"gw-1"}`))
}

func (g *gateway) count() int { g.mu.Lock(); defer g.mu.Unlock(); return g.calls }

var phones = map[string]string{"r1": "+8613800138000", "r2": "", "r3": "0138-bad"}

func lookup(_ context.Context, rider string) (string, error) {
	p, ok := phones[rider]
	if !ok {
		return "", errors.New("rider directory unavailable")
	}
	return p, nil
}

func channel(t *testing.T, url string, br breaker.Config) *sms.Channel {
	t.Helper()
	cfg := sms.DefaultConfig()
	cfg.URL, cfg.APIKey, cfg.From = url, "k-123", "Passline"
	cfg.Retry = breaker.Retry{Attempts: 3, Initial: time.Millisecond, Max: 2 * time.Millisecond}
	cfg.Breaker = br
	ch, err := sms.New(cfg, lookup, sms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var _ cloud.Channel = ch
	return ch
}

func note(rider, text string) wire.Notification {
	return wire.Notification{ID: "d-1", Rider: rider, Store: "s1", OrderID: "o-1", Kind: wire.KindReady, Text: text, SentAt: time.Now()}
}

func TestDeliverToFakeGateway(t *testing.T) {
	g, url := newGateway(t)
	ch := channel(t, url, breaker.Config{})
	if err := ch.Deliver(context.Background(), note("r1", "订单 #23 已可取餐，请到 B3 号架")); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	want := sms.Message{To: "+8613800138000", Text: "订单 #23 已可取餐，请到 B3 号架", From: "Passline", Reference: "d-1"}
	if len(g.got) != 1 || g.got[0] != want || g.keys[0] != "d-1" {
		t.Fatalf("gateway got %+v keys %v, want %+v", g.got, g.keys, want)
	}
}

func TestDeliverOutcomes(t *testing.T) {
	long := strings.Repeat("a", 3*sms.GSM7Multi+1)
	tests := []struct {
		name      string
		statuses  []int
		rider     string
		text      string
		wantCalls int
		ok        bool
		permanent bool
	}{
		{"retries 503 then sends", []int{503, 503}, "r1", "ready", 3, true, false},
		{"gives up on 500", []int{500, 500, 500}, "r1", "ready", 3, false, false},
		{"429 retried", []int{429}, "r1", "ready", 2, true, false},
		{"400 permanent", []int{400}, "r1", "ready", 1, false, true},
		{"no phone skipped", nil, "r2", "ready", 0, true, false},
		{"bad phone permanent", nil, "r3", "ready", 0, false, true},
		{"lookup failure retryable", nil, "unknown", "ready", 0, false, false},
		{"too long permanent", nil, "r1", long, 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, url := newGateway(t, tt.statuses...)
			ch := channel(t, url, breaker.Config{Failures: 100})
			err := ch.Deliver(context.Background(), note(tt.rider, tt.text))
			if (err == nil) != tt.ok || errors.Is(err, cloud.ErrPermanent) != tt.permanent {
				t.Errorf("Deliver = %v, want ok=%v permanent=%v", err, tt.ok, tt.permanent)
			}
			if g.count() != tt.wantCalls {
				t.Errorf("gateway called %d times, want %d", g.count(), tt.wantCalls)
			}
		})
	}
}

func TestKindsFilter(t *testing.T) {
	g, url := newGateway(t)
	cfg := sms.DefaultConfig()
	cfg.URL, cfg.APIKey = url, "k-123"
	cfg.Kinds = []wire.DecisionKind{wire.KindReady, wire.KindCancelled}
	ch, err := sms.New(cfg, lookup, sms.Options{})
	if err != nil {
		t.Fatal(err)
	}
	eta := note("r1", "about 4 min")
	eta.Kind = wire.KindETA
	if err := ch.Deliver(context.Background(), eta); err != nil || g.count() != 0 {
		t.Fatalf("eta with kinds [ready cancelled]: %v, %d gateway calls; want skipped", err, g.count())
	}
	if err := ch.Deliver(context.Background(), note("r1", "ready")); err != nil || g.count() != 1 {
		t.Fatalf("ready: %v, %d gateway calls; want sent", err, g.count())
	}
	cfg.Kinds = []wire.DecisionKind{"soon"}
	if err := cfg.Validate("sms"); err == nil || !strings.HasPrefix(err.Error(), "sms.kinds[0]") {
		t.Fatalf("Validate = %v, want sms.kinds[0] error", err)
	}
}

func TestGatewayBreaker(t *testing.T) {
	g, url := newGateway(t, 500, 500, 500, 500, 500, 500)
	ch := channel(t, url, breaker.Config{Failures: 3, CoolDown: time.Hour})
	_ = ch.Deliver(context.Background(), note("r1", "ready")) // 3 failed attempts trip it
	if ch.Breaker().State() != breaker.Open {
		t.Fatalf("breaker %v, want open", ch.Breaker().State())
	}
	if err := ch.Deliver(context.Background(), note("r1", "ready")); !errors.Is(err, breaker.ErrOpen) || g.count() != 3 {
		t.Fatalf("Deliver = %v with %d gateway calls, want ErrOpen and 3", err, g.count())
	}
}

func TestConfigValidate(t *testing.T) {
	off := sms.DefaultConfig()
	if err := off.Validate("sms"); err != nil {
		t.Fatalf("default (off) config: %v", err)
	}
	if _, err := sms.New(off, lookup, sms.Options{}); err == nil {
		t.Fatal("New accepted an empty url")
	}
	bad := sms.DefaultConfig()
	bad.URL = "gateway.example"
	if err := bad.Validate("sms"); err == nil || !strings.HasPrefix(err.Error(), "sms.url") {
		t.Fatalf("Validate = %v, want sms.url error", err)
	}
	bad = sms.DefaultConfig()
	bad.MaxSegments = 0
	if err := bad.Validate("sms"); err == nil || !strings.HasPrefix(err.Error(), "sms.max_segments") {
		t.Fatalf("Validate = %v, want sms.max_segments error", err)
	}
}
