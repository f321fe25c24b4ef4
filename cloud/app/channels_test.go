package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/cloud/sms"
	"github.com/passline/passline/cloud/webhook"
	"github.com/passline/passline/wire"
)

// received records what a fake endpoint got.
type received struct {
	mu     sync.Mutex
	bodies [][]byte
	errs   []error
}

func (r *received) add(b []byte, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.bodies = append(r.bodies, b)
	r.errs = append(r.errs, err)
}

func (r *received) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bodies)
}

// TestWebhookAndSMSFromConfig: channels configured in the cloud config
// deliver next to the rider subject; the receiving server verifies the
// webhook signature, and the fake SMS gateway gets the rider's phone.
func TestWebhookAndSMSFromConfig(t *testing.T) {
	secret, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	var hooks, texts received
	hookSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		hooks.add(b, webhook.Verify(secret, r.Header, b, time.Now(), 0))
	}))
	defer hookSrv.Close()
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m sms.Message
		b, _ := io.ReadAll(r.Body)
		texts.add(b, json.Unmarshal(b, &m))
	}))
	defer gw.Close()

	cfg := relaytest.Config(t.TempDir())
	cfg.Webhook.Endpoints = []webhook.Endpoint{{Name: "merchant-1", URL: hookSrv.URL, Secret: secret}}
	cfg.Egress.Allow = []string{"127.0.0.1"} // the receiver is a loopback test server
	cfg.SMS.URL = gw.URL
	m := relaytest.MustRun(t, cfg)
	nc, js := relaytest.Connect(t, m.NATSURL())
	riders := relaytest.Subscribe(t, nc)
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, natsjs.BucketRiders)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "r1", []byte(`{"phone":"+8613800138000"}`)); err != nil {
		t.Fatal(err)
	}
	if err := relaytest.Assign(nc, "s1", "o1", "r1"); err != nil {
		t.Fatal(err)
	}
	if err := relaytest.Publish(ctx, js, relaytest.Decision("multi-1", "s1", "o1", wire.KindReady)); err != nil {
		t.Fatal(err)
	}
	if !relaytest.WaitFor(10*time.Second, func() bool {
		return hooks.count() == 1 && texts.count() == 1 && len(riders.Get("multi-1")) == 1
	}) {
		t.Fatalf("webhook %d, sms %d, rider %d deliveries; want 1 each", hooks.count(), texts.count(), len(riders.Get("multi-1")))
	}
	if hooks.errs[0] != nil {
		t.Fatalf("webhook signature: %v", hooks.errs[0])
	}
	if _, n, err := webhook.DecodeEvent(hooks.bodies[0]); err != nil || n.ID != "multi-1" || n.Rider != "r1" {
		t.Fatalf("webhook event: %+v %v", n, err)
	}
	var msg sms.Message
	if err := json.Unmarshal(texts.bodies[0], &msg); err != nil || msg.To != "+8613800138000" || msg.Reference != "multi-1" || msg.Text == "" {
		t.Fatalf("sms: %+v %v", msg, err)
	}
}

// TestFailingWebhookTripsBreakerNotRiders: an endpoint that answers 500
// opens its breaker, while every rider notification still goes out.
func TestFailingWebhookTripsBreakerNotRiders(t *testing.T) {
	secret, _ := webhook.NewSecret()
	var calls received
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.add(nil, nil)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer bad.Close()
	cfg := relaytest.Config(t.TempDir())
	cfg.Webhook.Endpoints = []webhook.Endpoint{{Name: "broken", URL: bad.URL, Secret: secret}}
	cfg.Egress.Allow = []string{"127.0.0.1"} // the receiver is a loopback test server
	m := relaytest.MustRun(t, cfg)
	nc, js := relaytest.Connect(t, m.NATSURL())
	riders := relaytest.Subscribe(t, nc)
	ctx := context.Background()
	if err := relaytest.Assign(nc, "s1", "o1", "r1"); err != nil {
		t.Fatal(err)
	}
	const n = 10
	for i := range n {
		if err := relaytest.Publish(ctx, js, relaytest.Decision(fmt.Sprintf("b%d", i), "s1", "o1", wire.KindReady)); err != nil {
			t.Fatal(err)
		}
	}
	if !relaytest.WaitFor(10*time.Second, func() bool { d, _, _, _ := riders.Counts(); return d == n }) {
		d, _, _, _ := riders.Counts()
		t.Fatalf("riders got %d of %d while the webhook failed", d, n)
	}
	if !relaytest.WaitFor(10*time.Second, func() bool {
		return relaytest.Metric(t, m.Registry, "passline_cloud_breaker_state", map[string]string{"channel": "webhook"}) == 1
	}) {
		t.Fatalf("breaker did not open after %d failed calls", calls.count())
	}
	if _, total, dups, _ := riders.Counts(); total != n || dups != 0 {
		t.Fatalf("riders got %d messages (%d duplicates) while the webhook was retried", total, dups)
	}
}
