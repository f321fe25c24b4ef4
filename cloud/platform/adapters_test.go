package platform_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/cloud/platform/platformtest"
	"github.com/passline/passline/wire"
)

// outCase is one notification and the fake route it must reach ("" for
// none).
type outCase struct {
	n     wire.Notification
	route string
}

// runOutbound delivers every case through ch and checks which fake route
// each reached; it returns the applied calls by idempotency key.
func runOutbound(t *testing.T, ch *platform.Channel, f *platformtest.Fake, cases []outCase) map[string]platformtest.Applied {
	t.Helper()
	for _, c := range cases {
		if err := ch.Deliver(context.Background(), c.n); err != nil {
			t.Fatalf("%s: %v", c.n.ID, err)
		}
	}
	calls, refused := f.Snapshot()
	if len(refused) > 0 {
		t.Fatalf("fake refused: %v", refused)
	}
	byKey := map[string]platformtest.Applied{}
	for _, c := range calls {
		byKey[c.Key] = c
	}
	for _, c := range cases {
		got, ok := byKey[c.n.ID]
		switch {
		case c.route == "" && ok:
			t.Errorf("%s (%s, event %q) reached %s, want nothing", c.n.ID, c.n.Kind, c.n.EventID, got.Route)
		case c.route != "" && (!ok || got.Route != c.route):
			t.Errorf("%s (%s, event %q) reached %q, want %q", c.n.ID, c.n.Kind, c.n.EventID, got.Route, c.route)
		}
	}
	return byKey
}

func order(p, store, id, platformID string) platform.Order {
	return platform.Order{Store: store, OrderID: id, Platform: p, PlatformID: platformID, Status: "accepted"}
}

// TestUberEatsReadyAndEstimates: predictions reach Uber only as
// update-ready-time with the predicted time, a bump as /ready; after the
// ready Uber refuses a ready-time update and the refusal is parked.
func TestUberEatsReadyAndEstimates(t *testing.T) {
	e := newEnv(t)
	f := platformtest.UberEats(t, "ucid", "usecret", "utok")
	e.connect(t, "s1", platform.Credentials{Platform: platform.UberEats, PlatformStoreID: "uber-store-77", BaseURL: f.URL(),
		TokenURL: f.URL() + "/oauth/token", ClientID: "ucid", ClientSecret: "usecret", WebhookSecret: "unused"},
		order(platform.UberEats, "s1", "U1", "7d1e3a52-0b6f-4a65-b3c5-5a1bb2e0c9aa"))
	ch := e.channel(platform.NewUberEats())
	now := time.Now()
	soonETA, lateETA := now.Add(4*time.Minute).Truncate(time.Second), now.Add(12*time.Minute).Truncate(time.Second)
	const upd, ready = "POST /v1/delivery/order/{order_id}/update-ready-time", "POST /v1/delivery/order/{order_id}/ready"
	got := runOutbound(t, ch, f, []outCase{
		{note("u-soon", "s1", "U1", wire.KindReadySoon, "", now, &soonETA), upd},
		{note("u-late", "s1", "U1", wire.KindDelayed, "", now, &lateETA), upd},
		{note("u-past", "s1", "U1", wire.KindETA, "", now, ptr(now.Add(-time.Minute))), ""},
		{note("u-ready-no-event", "s1", "U1", wire.KindReady, "", now, nil), ""},
		{note("u-ready", "s1", "U1", wire.KindReady, "bump-1", now, nil), ready},
	})
	if got["u-soon"].Body["ready_for_pickup_time"] != soonETA.UTC().Format(time.RFC3339) {
		t.Errorf("ready_soon sent %v, want the predicted time %s", got["u-soon"].Body, soonETA.UTC().Format(time.RFC3339))
	}
	err := ch.Deliver(context.Background(), note("u-after", "s1", "U1", wire.KindETA, "", now, &lateETA))
	if !errors.Is(err, cloud.ErrPermanent) {
		t.Fatalf("update after ready: %v, want permanent", err)
	}
	if dead := e.deadLetters(t, "s1"); len(dead) != 1 || !strings.Contains(dead[0], "cannot adjust") {
		t.Errorf("dead letters %q", dead)
	}
}

// TestDoorDashOrderReadySignal: a bump reaches DoorDash as the Order Ready
// Signal with a JWT the fake verifies; predictions never do; a JWT signed
// with the wrong secret is refused by the fake and parked.
func TestDoorDashOrderReadySignal(t *testing.T) {
	e := newEnv(t)
	secret := base64.RawURLEncoding.EncodeToString([]byte("doordash-signing-secret-bytes!!"))
	f := platformtest.DoorDash(t, "582e4f20-0f48-4bc2-99c2-e094675e2919", "585698aa-2aa6-4bb4-8b3f-dd9d3f47dc28", secret)
	cred := platform.Credentials{Platform: platform.DoorDash, PlatformStoreID: "dd-store-9", BaseURL: f.URL(),
		DeveloperID: "582e4f20-0f48-4bc2-99c2-e094675e2919", KeyID: "585698aa-2aa6-4bb4-8b3f-dd9d3f47dc28", SigningSecret: secret, WebhookSecret: "Basic abc"}
	e.connect(t, "s1", cred, order(platform.DoorDash, "s1", "A17", "0da8b530-7c4c-4925-8785-cd843b797d64"))
	ch := e.channel(platform.NewDoorDash())
	now := time.Now()
	got := runOutbound(t, ch, f, []outCase{
		{note("dd-soon", "s1", "A17", wire.KindReadySoon, "", now, ptr(now.Add(30*time.Second))), ""},
		{note("dd-late", "s1", "A17", wire.KindDelayed, "", now, ptr(now.Add(9*time.Minute))), ""},
		{note("dd-ready-no-event", "s1", "A17", wire.KindReady, "", now, nil), ""},
		{note("dd-ready", "s1", "A17", wire.KindReady, "bump-1", now, nil), "PATCH /marketplace/api/v1/orders/{id}/events/order_ready_for_pickup"},
	})
	if got["dd-ready"].Body["merchant_supplied_id"] != "A17" {
		t.Errorf("body %v", got["dd-ready"].Body)
	}
	cred.SigningSecret = base64.RawURLEncoding.EncodeToString([]byte("another-secret-another-secret!!"))
	e.connect(t, "s1", cred)
	if err := ch.Deliver(context.Background(), note("dd-bad", "s1", "A17", wire.KindReady, "bump-2", now, nil)); !errors.Is(err, cloud.ErrPermanent) {
		t.Fatalf("wrong key: %v, want a permanent refusal", err)
	}
	if _, refused := f.Snapshot(); len(refused) != 1 || !strings.Contains(refused[0], "signature") {
		t.Errorf("fake refusals %v, want one bad signature", refused)
	}
}

// TestMeituanMealReady: a bump reaches Meituan as the meal-ready report
// with a sig the fake checks; a prediction does not; Meituan's 200
// {"data":"ng"} refusal is permanent and parked with its code.
func TestMeituanMealReady(t *testing.T) {
	e := newEnv(t)
	f := platformtest.Meituan(t, "5678", "mt-secret")
	cred := platform.Credentials{Platform: platform.Meituan, PlatformStoreID: "poi-1", BaseURL: f.URL(), ClientID: "5678", ClientSecret: "mt-secret"}
	e.connect(t, "s1", cred, order(platform.Meituan, "s1", "M9", "27061900338318741"))
	ch := e.channel(platform.NewMeituan())
	now := time.Now()
	runOutbound(t, ch, f, []outCase{
		{note("mt-soon", "s1", "M9", wire.KindReadySoon, "", now, ptr(now.Add(20*time.Second))), ""},
		{note("mt-ready-no-event", "s1", "M9", wire.KindReady, "", now, nil), ""},
		{note("mt-ready", "s1", "M9", wire.KindReady, "bump-1", now, nil), "POST /api/v1/order/preparationMealComplete"},
	})
	cred.ClientSecret = "wrong-secret"
	e.connect(t, "s1", cred)
	if err := ch.Deliver(context.Background(), note("mt-bad", "s1", "M9", wire.KindReady, "bump-2", now, nil)); !errors.Is(err, cloud.ErrPermanent) {
		t.Fatalf("bad sig: %v, want permanent", err)
	}
	if dead := e.deadLetters(t, "s1"); len(dead) != 1 || !strings.Contains(dead[0], "code=703") {
		t.Errorf("dead letters %q", dead)
	}
}

// TestOpenDeliveryReadyForPickup: a bump reaches the platform as
// readyForPickup with a bearer token and an X-App-Signature the fake
// checks; predictions do not.
func TestOpenDeliveryReadyForPickup(t *testing.T) {
	e := newEnv(t)
	f := platformtest.OpenDelivery(t, "odcid", "od-secret", "odtok")
	e.connect(t, "s1", platform.Credentials{Platform: platform.OpenDelivery, PlatformStoreID: "m-1", BaseURL: f.URL(),
		ClientID: "odcid", ClientSecret: "od-secret", WebhookSecret: "od-hook"},
		order(platform.OpenDelivery, "s1", "K5", "3fa85f64-5717-4562-b3fc-2c963f66afa6"))
	ch := e.channel(platform.NewOpenDelivery())
	now := time.Now()
	runOutbound(t, ch, f, []outCase{
		{note("od-soon", "s1", "K5", wire.KindReadySoon, "", now, ptr(now.Add(30*time.Second))), ""},
		{note("od-late", "s1", "K5", wire.KindDelayed, "", now, ptr(now.Add(8*time.Minute))), ""},
		{note("od-ready-no-event", "s1", "K5", wire.KindReady, "", now, nil), ""},
		{note("od-ready", "s1", "K5", wire.KindReady, "bump-1", now, nil), "POST /v1/orders/{orderId}/readyForPickup"},
	})
}

// TestUberEatsCancelWebhook: a signed orders.cancel cancels the known order;
// the same body with a bad signature is refused.
func TestUberEatsCancelWebhook(t *testing.T) {
	e := newEnv(t)
	e.connect(t, "s1", platform.Credentials{Platform: platform.UberEats, PlatformStoreID: "uber-store-77", ClientID: "c", ClientSecret: "usecret", WebhookSecret: "w"},
		order(platform.UberEats, "s1", "U1", "7d1e3a52-0b6f-4a65-b3c5-5a1bb2e0c9aa"))
	h := newHooks(t, e, platform.NewUberEats())
	body := fixture(t, "ubereats/orders_cancel.json")
	if code := h.post(t, "s1", body, http.Header{platform.UberHeaderSignature: {platform.UberSign("not-the-secret", body)}}); code != http.StatusUnauthorized {
		t.Fatalf("bad signature: %d", code)
	}
	if code := h.post(t, "s1", body, http.Header{platform.UberHeaderSignature: {platform.UberSign("usecret", body)}}); code != http.StatusOK {
		t.Fatalf("signed: %d", code)
	}
	if o, _, _ := e.orders.Get(context.Background(), "s1", "U1"); o.Status != "cancelled" || o.CancelledAt.IsZero() {
		t.Errorf("record %+v", o)
	}
}

// TestOpenDeliverySignMatchesKeetaExamples: X-App-Signature is the Base64
// HMAC-SHA256 of the signature strings Keeta's examples page gives
// (https://api-docs.mykeeta.com/en/apis/opendelivery/signature-calculation/examples).
func TestOpenDeliverySignMatchesKeetaExamples(t *testing.T) {
	for _, c := range []struct{ url, body, signed string }{
		{"https://api.example.com/v1/users?page=2&limit=10&sort=name", "", "https://api.example.com/v1/users&limit=10&page=2&sort=name"},
		{"https://api.example.com/v1/orders", `{"userId":123,"productId":456,"quantity":2}`, `https://api.example.com/v1/orders&{"userId":123,"productId":456,"quantity":2}`},
		{"https://api.example.com/v1/products?version=v2&format=json", `{"name":"Product A","price":99.99}`, `https://api.example.com/v1/products&format=json&version=v2&{"name":"Product A","price":99.99}`},
		{"https://od.example/v1/orders/x/readyForPickup", "", "https://od.example/v1/orders/x/readyForPickup"},
	} {
		m := hmac.New(sha256.New, []byte("k"))
		m.Write([]byte(c.signed))
		if got, want := platform.OpenDeliverySign("k", c.url, []byte(c.body)), base64.StdEncoding.EncodeToString(m.Sum(nil)); got != want {
			t.Errorf("%s: %s, want the MAC of %q", c.url, got, c.signed)
		}
	}
}
