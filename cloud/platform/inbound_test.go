package platform_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/cloud/platform/platformtest"
)

// inboundCase is one platform's signed webhook fixtures: link the order,
// assign the rider, rider at the store, picked up.
type inboundCase struct {
	name   string
	in     platform.Inbound
	cred   func(t *testing.T) platform.Credentials // the store's, PlatformStoreID matching the fixtures
	steps  []string                                // fixtures, in order
	code   string                                  // the ticket's code the order is linked by
	platID string
	wait   time.Duration // picked up - arrived, per the fixtures
	phone  string        // customer phone the platform shares, "" if none
	locale string
	// sign returns the body and headers the platform sends for body, to
	// the hooks' URL of store; secret is the key used (a wrong one for the
	// bad signature test).
	sign func(h *hooks, store string, body []byte, secret string) ([]byte, http.Header)
	// secret is the signing key of cred.
	secret string
}

// start connects store s1 (and, with others, more stores whose platform
// store ids are those) and serves the platform's receiver.
func (c inboundCase) start(t *testing.T, others ...string) (*env, *hooks) {
	t.Helper()
	e := newEnv(t)
	cred := c.cred(t)
	e.connect(t, "s1", cred)
	for i, ref := range others {
		cred.PlatformStoreID = ref
		e.connect(t, "s"+strconv.Itoa(i+2), cred)
	}
	return e, newHooks(t, e, c.in)
}

// send signs fixture name with secret as the platform would for store and
// posts it there; it returns the status.
func (c inboundCase) send(t *testing.T, h *hooks, store, name, secret string) int {
	t.Helper()
	body, hdr := c.sign(h, store, fixture(t, name), secret)
	return h.post(t, store, body, hdr)
}

// linked reports whether the platform's order is linked to any store.
func (c inboundCase) linked(e *env) bool {
	_, ok, _ := e.orders.ByPlatformID(context.Background(), c.name, c.platID)
	return ok
}

func inboundCases() []inboundCase {
	return []inboundCase{
		{
			name: "deliveroo", in: platform.NewDeliveroo(), secret: droHook,
			cred:  func(*testing.T) platform.Credentials { return deliverooCreds("http://unused") },
			steps: []string{"deliveroo/order_new.json", "deliveroo/rider_assigned.json", "deliveroo/rider_confirmed_at_restaurant.json", "deliveroo/rider_in_transit.json"},
			code:  "6206", platID: droOrder, wait: 210 * time.Second, phone: "+442071838750",
			sign: func(_ *hooks, _ string, body []byte, secret string) ([]byte, http.Header) {
				sum := sha256.Sum256(body) // one sequence GUID per distinct delivery
				return body, deliverooHeaders(secret, hex.EncodeToString(sum[:8]), body)
			},
		},
		{
			name: "doordash", in: platform.NewDoorDash(), secret: "Bearer dd-hook-token",
			cred: func(*testing.T) platform.Credentials {
				return platform.Credentials{Platform: platform.DoorDash, PlatformStoreID: "dd-store-9", DeveloperID: "d", KeyID: "k",
					SigningSecret: "c2VjcmV0", WebhookSecret: "Bearer dd-hook-token"}
			},
			steps: []string{"doordash/dasher_confirmed.json", "doordash/arriving_at_store.json", "doordash/arrived_at_store.json", "doordash/dasher_out_for_delivery.json"},
			code:  "A17", platID: "0da8b530-7c4c-4925-8785-cd843b797d64", wait: 150 * time.Second,
			sign: func(_ *hooks, _ string, body []byte, secret string) ([]byte, http.Header) {
				return body, http.Header{"Authorization": {secret}}
			},
		},
		{
			name: "ubereats", in: platform.NewUberEats(), secret: "usecret",
			cred: func(t *testing.T) platform.Credentials {
				f := platformtest.UberEats(t, "ucid", "usecret", "utok")
				return platform.Credentials{Platform: platform.UberEats, PlatformStoreID: "uber-store-77", BaseURL: f.URL(),
					TokenURL: f.URL() + "/oauth/token", ClientID: "ucid", ClientSecret: "usecret", WebhookSecret: "unused"}
			},
			steps: []string{"ubereats/orders_notification.json", "ubereats/delivery_en_route_to_pickup.json", "ubereats/orders_release.json", "ubereats/delivery_arrived_at_pickup.json", "ubereats/delivery_en_route_to_dropoff.json"},
			code:  "14636", platID: "153dd7f1-339d-4619-940c-418943c14636", wait: 180 * time.Second, phone: platformtest.UberEaterPhone,
			sign: func(_ *hooks, _ string, body []byte, secret string) ([]byte, http.Header) {
				return body, http.Header{platform.UberHeaderSignature: {platform.UberSign(secret, body)}}
			},
		},
		{
			name: "opendelivery", in: platform.NewOpenDelivery(), secret: "od-secret",
			cred: func(*testing.T) platform.Credentials {
				return platform.Credentials{Platform: platform.OpenDelivery, PlatformStoreID: "m-1", BaseURL: "http://unused", ClientID: "odcid", ClientSecret: "od-secret"}
			},
			steps: []string{"opendelivery/logistic_pickup_ongoing.json", "opendelivery/logistic_arrived_at_merchant.json", "opendelivery/logistic_order_picked.json", "opendelivery/event_dispatched.json"},
			code:  "K5", platID: "3fa85f64-5717-4562-b3fc-2c963f66afa6", wait: 150 * time.Second,
			sign: func(_ *hooks, _ string, body []byte, secret string) ([]byte, http.Header) {
				return body, http.Header{platform.OpenDeliveryHeaderSignature: {platform.OpenDeliveryHookSign(secret, body)},
					platform.OpenDeliveryHeaderMerchant: {"m-1"}, platform.OpenDeliveryHeaderApp: {"keeta"}}
			},
		},
		{
			name: "meituan", in: platform.NewMeituan(), secret: "mt-secret",
			cred: func(*testing.T) platform.Credentials {
				return platform.Credentials{Platform: platform.Meituan, PlatformStoreID: "poi-1", ClientID: "5678", ClientSecret: "mt-secret"}
			},
			steps: []string{"meituan/push_order.txt", "meituan/push_logistics_assigned.txt", "meituan/push_logistics_arrived.txt", "meituan/push_logistics_picked_up.txt"},
			code:  "27061900338318741", platID: "27061900338318741", wait: 120 * time.Second, phone: "13800138000", locale: "zh-CN",
			sign: func(h *hooks, store string, body []byte, secret string) ([]byte, http.Header) {
				form, err := url.ParseQuery(string(body))
				if err != nil {
					panic(err)
				}
				form.Set("app_id", "5678")
				form.Set("timestamp", strconv.FormatInt(time.Now().Unix(), 10))
				form.Set("sig", platform.MeituanSign(h.url(store), form, secret))
				return []byte(form.Encode()), http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
			},
		},
	}
}

// TestInboundWebhooksDriveOrder: for every platform,
// the signed fixtures link the order to its ticket code, assign the rider
// (handed to the relay), and record arrival and pickup: the rider-wait
// ground truth. Customer phone and locale are kept where the platform
// shares them.
func TestInboundWebhooksDriveOrder(t *testing.T) {
	for _, c := range inboundCases() {
		t.Run(c.name, func(t *testing.T) {
			e, h := c.start(t)
			for _, name := range c.steps {
				if code := c.send(t, h, "s1", name, c.secret); code != http.StatusOK {
					t.Fatalf("%s: status %d", name, code)
				}
			}
			o, ok, err := e.orders.Get(context.Background(), "s1", c.code)
			if err != nil || !ok {
				t.Fatalf("order %s not linked: %v %v", c.code, ok, err)
			}
			if o.PlatformID != c.platID || o.Status != "picked_up" || o.RiderAssignedAt.IsZero() {
				t.Errorf("record %+v", o)
			}
			if w, ok := o.RiderWait(); !ok || w != c.wait {
				t.Errorf("rider wait %v %v, want %v (arrived %v, picked up %v)", w, ok, c.wait, o.RiderArrivedAt, o.PickedUpAt)
			}
			if o.CustomerPhone != c.phone || o.Locale != c.locale {
				t.Errorf("customer phone %q locale %q, want %q %q", o.CustomerPhone, o.Locale, c.phone, c.locale)
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			if len(h.assigns) == 0 || h.assigns[0].OrderID != c.code || h.assigns[0].Rider != o.Rider {
				t.Errorf("assignments %+v (record rider %q)", h.assigns, o.Rider)
			}
			if n := h.count("applied"); n != float64(len(c.steps)) {
				t.Errorf("applied %v of %d", n, len(c.steps))
			}
		})
	}
}

// TestInboundBadSignature: each platform's first fixture signed with
// another key is refused with 401, counted, and links nothing.
func TestInboundBadSignature(t *testing.T) {
	for _, c := range inboundCases() {
		t.Run(c.name, func(t *testing.T) {
			e, h := c.start(t)
			if code := c.send(t, h, "s1", c.steps[0], "not-the-secret"); code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", code)
			}
			if c.linked(e) {
				t.Error("order linked by an unsigned webhook")
			}
			if h.count("bad_signature") != 1 {
				t.Errorf("bad_signature counted %v", h.count("bad_signature"))
			}
		})
	}
}

// TestInboundReplay: each platform's signed delivery sent twice is applied
// once; the second is refused with 409 and counted.
func TestInboundReplay(t *testing.T) {
	for _, c := range inboundCases() {
		t.Run(c.name, func(t *testing.T) {
			_, h := c.start(t)
			if code := c.send(t, h, "s1", c.steps[0], c.secret); code != http.StatusOK {
				t.Fatalf("first: %d", code)
			}
			body2, hdr2 := c.sign(h, "s1", fixture(t, c.steps[1]), c.secret)
			for i := range 2 {
				code := h.post(t, "s1", body2, hdr2)
				if want := []int{http.StatusOK, http.StatusConflict}[i]; code != want {
					t.Fatalf("delivery %d of the assignment: %d, want %d", i+1, code, want)
				}
			}
			if h.count("replay") != 1 {
				t.Errorf("replay counted %v", h.count("replay"))
			}
			h.mu.Lock()
			defer h.mu.Unlock()
			if len(h.assigns) != 1 {
				t.Errorf("assignments %+v, want the replayed one applied once", h.assigns)
			}
		})
	}
}

// TestInboundOtherStore: each platform's signed fixture naming the platform
// store of s1, delivered to s2's URL (s2 connected with its own platform
// store id), is refused with 403, counted, and links nothing.
func TestInboundOtherStore(t *testing.T) {
	for _, c := range inboundCases() {
		t.Run(c.name, func(t *testing.T) {
			e, h := c.start(t, "another-platform-store")
			if code := c.send(t, h, "s2", c.steps[0], c.secret); code != http.StatusForbidden {
				t.Fatalf("status %d, want 403", code)
			}
			if c.linked(e) {
				t.Error("order linked by another store's event")
			}
			if h.count("other_store") != 1 {
				t.Errorf("other_store counted %v", h.count("other_store"))
			}
		})
	}
}
