package platform_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/wire"
)

// hooks is a receiver for one platform behind a test server, with the
// assignments it handed the relay.
type hooks struct {
	srv     *httptest.Server
	metrics *platform.ReceiverMetrics
	inbound platform.Inbound

	mu      sync.Mutex
	assigns []wire.Assignment
}

func newHooks(t *testing.T, e *env, in platform.Inbound) *hooks {
	h := &hooks{metrics: platform.NewReceiverMetrics(prometheus.NewRegistry()), inbound: in}
	rc := &platform.Receiver{Inbound: in, Credentials: e.creds, Orders: e.orders, Seen: e.seen, Metrics: h.metrics, Log: e.log,
		Assign: func(_ context.Context, a wire.Assignment) error {
			if err := a.Validate(); err != nil {
				return err
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			h.assigns = append(h.assigns, a)
			return nil
		}}
	mux := http.NewServeMux()
	mux.Handle("POST /webhooks/"+in.Platform()+"/{store}", rc)
	h.srv = httptest.NewServer(mux)
	t.Cleanup(h.srv.Close)
	return h
}

// url is store's webhook URL.
func (h *hooks) url(store string) string {
	return h.srv.URL + "/webhooks/" + h.inbound.Platform() + "/" + store
}

// post sends body to store's webhook URL with headers (JSON unless they
// say otherwise) and returns the status.
func (h *hooks) post(t *testing.T, store string, body []byte, header http.Header) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.url(store), bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (h *hooks) count(result string) float64 {
	return testutil.ToFloat64(h.metrics.Counter(h.inbound.Platform(), result))
}

// deliverooHeaders signs body as Deliveroo does, with guid.
func deliverooHeaders(secret, guid string, body []byte) http.Header {
	return http.Header{
		platform.DeliverooHeaderGUID: {guid},
		platform.DeliverooHeaderHMAC: {platform.DeliverooSign(secret, guid, body)},
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// TestDeliverooWebhooksDriveOrder posts the signed Deliveroo fixtures in
// order and checks the order record (the rider-wait ground truth) and the
// assignment handed to the relay.
func TestDeliverooWebhooksDriveOrder(t *testing.T) {
	e := newEnv(t)
	e.connect(t, "s1", deliverooCreds("http://unused"))
	h := newHooks(t, e, platform.NewDeliveroo())
	for i, name := range []string{"order_new", "order_accepted", "rider_assigned", "rider_confirmed_at_restaurant", "rider_in_transit"} {
		body := fixture(t, "deliveroo/"+name+".json")
		if code := h.post(t, "s1", body, deliverooHeaders(droHook, "guid-"+strconv.Itoa(i), body)); code != http.StatusOK {
			t.Fatalf("%s: status %d", name, code)
		}
	}
	o, ok, err := e.orders.Get(context.Background(), "s1", "6206")
	if err != nil || !ok {
		t.Fatalf("order record: %v %v", ok, err)
	}
	if o.PlatformID != droOrder || o.Status != "picked_up" || !o.PrepareFor.Equal(mustTime(t, "2026-12-04T12:12:00Z")) {
		t.Errorf("record %+v", o)
	}
	if !o.RiderArrivedAt.Equal(mustTime(t, "2026-12-04T12:10:00Z")) || !o.PickedUpAt.Equal(mustTime(t, "2026-12-04T12:13:30Z")) {
		t.Errorf("arrived %v picked up %v", o.RiderArrivedAt, o.PickedUpAt)
	}
	if w, ok := o.RiderWait(); !ok || w != 210*time.Second {
		t.Errorf("rider wait %v %v, want 3m30s", w, ok)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.assigns) != 1 || h.assigns[0].Store != "s1" || h.assigns[0].OrderID != "6206" || h.assigns[0].Rider != o.Rider || h.assigns[0].TravelSeconds != 600 {
		t.Errorf("assignments %+v (record rider %s)", h.assigns, o.Rider)
	}
	if h.count("applied") != 5 {
		t.Errorf("applied %v, want 5", h.count("applied"))
	}
}

// TestWebhookBadSignature: a wrong or missing signature is refused with
// 401, counted, and nothing is recorded.
func TestWebhookBadSignature(t *testing.T) {
	e := newEnv(t)
	e.connect(t, "s1", deliverooCreds("http://unused"))
	h := newHooks(t, e, platform.NewDeliveroo())
	body := fixture(t, "deliveroo/order_new.json")
	if code := h.post(t, "s1", body, deliverooHeaders("another-secret", "g1", body)); code != http.StatusUnauthorized {
		t.Fatalf("wrong secret: status %d, want 401", code)
	}
	if code := h.post(t, "s1", body, nil); code != http.StatusUnauthorized {
		t.Fatalf("no signature: status %d, want 401", code)
	}
	tampered := bytes.Replace(body, []byte(`"6206"`), []byte(`"6207"`), 1)
	if code := h.post(t, "s1", tampered, deliverooHeaders(droHook, "g2", body)); code != http.StatusUnauthorized {
		t.Fatalf("tampered body: status %d, want 401", code)
	}
	if _, ok, _ := e.orders.Get(context.Background(), "s1", "6206"); ok {
		t.Error("order recorded from an unsigned webhook")
	}
	if h.count("bad_signature") != 3 {
		t.Errorf("bad_signature counted %v, want 3", h.count("bad_signature"))
	}
}

// TestWebhookOtherStore: an order event naming another Deliveroo site, and
// a rider event about another store's order, are refused with 403 and
// counted; an event about an unknown order is refused with 404.
func TestWebhookOtherStore(t *testing.T) {
	e := newEnv(t)
	e.connect(t, "s1", deliverooCreds("http://unused"))
	s2 := deliverooCreds("http://unused")
	s2.PlatformStoreID = "9999"
	e.connect(t, "s2", s2, deliverooOrder("s2", "6206", droOrder, time.Time{}))
	h := newHooks(t, e, platform.NewDeliveroo())
	body := fixture(t, "deliveroo/order_new.json") // location_id 4163: s1's site
	if code := h.post(t, "s2", body, deliverooHeaders(droHook, "g1", body)); code != http.StatusForbidden {
		t.Fatalf("order for another site: status %d, want 403", code)
	}
	rider := fixture(t, "deliveroo/rider_assigned.json") // about s2's order
	if code := h.post(t, "s1", rider, deliverooHeaders(droHook, "g2", rider)); code != http.StatusForbidden {
		t.Fatalf("rider event for another store's order: status %d, want 403", code)
	}
	if h.count("other_store") != 2 {
		t.Errorf("other_store counted %v, want 2", h.count("other_store"))
	}
	e2 := newEnv(t)
	e2.connect(t, "s1", deliverooCreds("http://unused"))
	h2 := newHooks(t, e2, platform.NewDeliveroo())
	if code := h2.post(t, "s1", rider, deliverooHeaders(droHook, "g3", rider)); code != http.StatusNotFound {
		t.Fatalf("unknown order: status %d, want 404", code)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.assigns) != 0 {
		t.Errorf("refused events applied: %+v", h.assigns)
	}
	if o, _, _ := e.orders.Get(context.Background(), "s2", "6206"); !o.RiderAssignedAt.IsZero() {
		t.Errorf("s2's order changed by a refused event: %+v", o)
	}
}
