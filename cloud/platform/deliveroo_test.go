package platform_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/cloud/platform/platformtest"
	"github.com/passline/passline/wire"
)

const (
	droID     = "droo-client"
	droSecret = "droo-secret-value"
	droHook   = "droo-webhook-secret"
	droToken  = "droo-access-token"
	droOrder  = "gb:f2eb207a-2111-45f7-9008-cb561da4f45a"
)

func deliverooFake(t *testing.T) *platformtest.Fake {
	return platformtest.Deliveroo(t, droID, droSecret, droToken)
}

func deliverooCreds(url string) platform.Credentials {
	return platform.Credentials{Platform: platform.Deliveroo, PlatformStoreID: "4163", BaseURL: url, TokenURL: url + "/oauth2/token",
		ClientID: droID, ClientSecret: droSecret, WebhookSecret: droHook}
}

func deliverooOrder(store, order, platformID string, prepareFor time.Time) platform.Order {
	return platform.Order{Store: store, OrderID: order, Platform: platform.Deliveroo, PlatformID: platformID, Status: "accepted", PrepareFor: prepareFor}
}

// TestDeliverooPrepStages sends each kind of decision through the
// Deliveroo channel to the fake and checks which prep_stage calls arrive:
// a bump is ready_for_collection, a kitchen event 40 s from ready is
// ready_for_collection_soon, a late prediction only in_kitchen with a
// delay, and a predicted ready_soon (even 30 s away) nothing at all.
func TestDeliverooPrepStages(t *testing.T) {
	e := newEnv(t)
	f := deliverooFake(t)
	now := time.Now()
	prepFor := now.Add(5 * time.Minute)
	e.connect(t, "s1", deliverooCreds(f.URL()), deliverooOrder("s1", "6206", droOrder, prepFor))
	ch := e.channel(platform.NewDeliveroo())
	const prepStage = "POST /order/v1/orders/{order_id}/prep_stage"
	cases := []struct {
		n         wire.Notification
		wantStage string // "" means no call
		wantDelay int
	}{
		{note("d-pred-soon", "s1", "6206", wire.KindReadySoon, "", now, ptr(now.Add(30*time.Second))), "", 0},
		{note("d-eta", "s1", "6206", wire.KindETA, "", now, ptr(now.Add(3*time.Minute))), "", 0},
		{note("d-late", "s1", "6206", wire.KindDelayed, "", now, ptr(prepFor.Add(5*time.Minute))), "in_kitchen", 6},
		{note("d-very-late", "s1", "6206", wire.KindDelayed, "", now, ptr(prepFor.Add(25*time.Minute))), "in_kitchen", 10},
		{note("d-kitchen-soon-far", "s1", "6206", wire.KindReadySoon, "scale-1", now, ptr(now.Add(3*time.Minute))), "", 0},
		{note("d-kitchen-soon", "s1", "6206", wire.KindReadySoon, "scale-2", now, ptr(now.Add(40*time.Second))), "ready_for_collection_soon", 0},
		{note("d-ready-no-event", "s1", "6206", wire.KindReady, "", now, nil), "", 0},
		{note("d-ready", "s1", "6206", wire.KindReady, "bump-1", now, nil), "ready_for_collection", 0},
		{note("d-other-order", "s1", "not-a-platform-order", wire.KindReady, "bump-2", now, nil), "", 0},
	}
	var outs []outCase
	for _, c := range cases {
		oc := outCase{n: c.n}
		if c.wantStage != "" {
			oc.route = prepStage
		}
		outs = append(outs, oc)
	}
	byKey := runOutbound(t, ch, f, outs)
	for _, c := range cases {
		got := byKey[c.n.ID]
		if c.wantStage == "" {
			continue
		}
		if got.Path != "/order/v1/orders/"+droOrder+"/prep_stage" || got.Body["stage"] != c.wantStage {
			t.Errorf("%s: got %s %v, want stage %s", c.n.ID, got.Path, got.Body, c.wantStage)
		}
		if d, _ := got.Body["delay"].(float64); int(d) != c.wantDelay {
			t.Errorf("%s: delay %v, want %d", c.n.ID, got.Body["delay"], c.wantDelay)
		}
	}
	for key, c := range byKey {
		if s := c.Body["stage"]; (s == "ready_for_collection" || s == "ready_for_collection_soon") && !strings.HasPrefix(key, "d-kitchen") && key != "d-ready" {
			t.Errorf("prediction %s became %s", key, s)
		}
	}
}

// TestDeliverooRefusalParked checks a 404 from Deliveroo: not retried,
// its reason logged without the client secret, the decision parked in the
// dead-letter stream with it, and the error permanent.
func TestDeliverooRefusalParked(t *testing.T) {
	e := newEnv(t)
	f := deliverooFake(t)
	e.connect(t, "s1", deliverooCreds(f.URL()), deliverooOrder("s1", "7001", "gb:unknown", time.Time{}))
	ch := e.channel(platform.NewDeliveroo())
	err := ch.Deliver(context.Background(), note("d-404", "s1", "7001", wire.KindReady, "bump-9", time.Now(), nil))
	if !errors.Is(err, cloud.ErrPermanent) {
		t.Fatalf("err = %v, want permanent", err)
	}
	if attempts, _, _ := f.Counts(); attempts != 1 {
		t.Errorf("%d attempts, want 1 (a 404 is not retried)", attempts)
	}
	dead := e.deadLetters(t, "s1")
	if len(dead) != 1 || !strings.Contains(dead[0], "order gb:unknown not found") {
		t.Fatalf("dead letters %q, want the platform's reason", dead)
	}
	if logs := e.logs.String(); !strings.Contains(logs, "not_found") || strings.Contains(logs, droSecret) {
		t.Errorf("log must give the reason and no secret:\n%s", logs)
	}
}

// TestDeliverooRetryAfter checks that a 429 with Retry-After is retried
// after the wait and applied once.
func TestDeliverooRetryAfter(t *testing.T) {
	e := newEnv(t)
	f := deliverooFake(t)
	e.connect(t, "s1", deliverooCreds(f.URL()), deliverooOrder("s1", "6206", droOrder, time.Time{}))
	ch := e.channel(platform.NewDeliveroo())
	f.FailFor(300 * time.Millisecond)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	for time.Since(start) < 5*time.Second {
		if err = ch.Deliver(ctx, note("d-ready", "s1", "6206", wire.KindReady, "bump-1", time.Now(), nil)); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	calls, _ := f.Snapshot()
	if _, faults, _ := f.Counts(); len(calls) != 1 || faults == 0 {
		t.Fatalf("%d calls applied after %d faults, want 1 after some", len(calls), faults)
	}
}

// TestDeliverooInKitchenAtCookStart: the decision flagged cook_start (the
// start key) reaches Deliveroo as in_kitchen, without a delay when the
// prediction is within prepare_for and with the lateness rounded up to
// Deliveroo's steps when it is not; the same flag on a decision without a
// kitchen event (a timer) sends nothing.
func TestDeliverooInKitchenAtCookStart(t *testing.T) {
	e := newEnv(t)
	f := deliverooFake(t)
	now := time.Now()
	prepFor := now.Add(10 * time.Minute)
	e.connect(t, "s1", deliverooCreds(f.URL()),
		deliverooOrder("s1", "6206", droOrder, prepFor), deliverooOrder("s1", "6207", "gb:late-order", prepFor))
	ch := e.channel(platform.NewDeliveroo())
	start := func(id, order, event string, eta time.Time) wire.Notification {
		n := note(id, "s1", order, wire.KindETA, event, now, &eta)
		n.Flags = []string{wire.FlagCookStart}
		return n
	}
	got := runOutbound(t, ch, f, []outCase{
		{start("d-start", "6206", "key-start-1", now.Add(8*time.Minute)), "POST /order/v1/orders/{order_id}/prep_stage"},
		{start("d-start-late", "6207", "key-start-2", prepFor.Add(3*time.Minute)), "POST /order/v1/orders/{order_id}/prep_stage"},
		{start("d-start-timer", "6206", "", now.Add(8*time.Minute)), ""},
		{note("d-plain-eta", "s1", "6206", wire.KindETA, "key-3", now, ptr(now.Add(8*time.Minute))), ""},
	})
	if b := got["d-start"].Body; b["stage"] != "in_kitchen" || b["delay"] != nil {
		t.Errorf("on-time cook start sent %v, want in_kitchen without delay", b)
	}
	if b := got["d-start-late"].Body; b["stage"] != "in_kitchen" || b["delay"] != float64(4) {
		t.Errorf("late cook start sent %v, want in_kitchen with delay 4", b)
	}
}
