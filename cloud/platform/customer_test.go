package platform_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/wire"
)

// sent records what the customer channel handed its Via channel, with the
// phone it put in the context.
type sent struct {
	mu     sync.Mutex
	notes  []wire.Notification
	phones []string
}

func (s *sent) Name() string { return "sms" }

func (s *sent) Deliver(ctx context.Context, n wire.Notification) error {
	phone, _ := platform.CustomerPhone(ctx, n.Rider)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notes, s.phones = append(s.notes, n), append(s.phones, phone)
	return nil
}

// customer is the customer channel over e's orders, with its caps, writing
// through a recorder.
func (e *env) customer(t *testing.T) (*platform.CustomerChannel, *sent) {
	t.Helper()
	b, err := natsjs.SetupPlatform(context.Background(), e.js, 1)
	if err != nil {
		t.Fatal(err)
	}
	via := &sent{}
	return &platform.CustomerChannel{Orders: e.orders, Caps: natsjs.PlatformCaps{KV: b.Seen}, Via: via}, via
}

// TestCustomerOncePerKindInLocale: the customer of a platform order gets
// one ready_soon and one delayed at most, in the order's locale, to the
// order's phone; a redelivery of the same decision goes through again (the
// relay only redelivers what failed), other kinds and non-platform orders
// never reach the customer.
func TestCustomerOncePerKindInLocale(t *testing.T) {
	e := newEnv(t)
	o := deliverooOrder("s1", "6206", droOrder, time.Time{})
	o.Locale, o.CustomerPhone = "zh-CN", "+8613800138000"
	e.connect(t, "s1", deliverooCreds("http://unused"), o)
	ch, via := e.customer(t)
	now := time.Now()
	eta := now.Add(4 * time.Minute)
	notes := []wire.Notification{
		note("k1", "s1", "6206", wire.KindReadySoon, "", now, &eta),
		note("k1", "s1", "6206", wire.KindReadySoon, "", now, &eta), // redelivery of k1
		note("k2", "s1", "6206", wire.KindReadySoon, "", now, &eta), // a second ready_soon: capped
		note("k3", "s1", "6206", wire.KindDelayed, "", now, &eta),
		note("k4", "s1", "6206", wire.KindDelayed, "", now, &eta), // capped
		note("k5", "s1", "6206", wire.KindETA, "", now, &eta),
		note("k6", "s1", "6206", wire.KindReady, "bump", now, nil),
		note("k7", "s1", "other-order", wire.KindReadySoon, "", now, &eta),
	}
	for _, n := range notes {
		n.Locale, n.ShortCode, n.StoreName = "en", "#17", "Noodle Bar"
		if err := ch.Deliver(context.Background(), n); err != nil {
			t.Fatalf("%s: %v", n.ID, err)
		}
	}
	var ids []string
	for i, n := range via.notes {
		ids = append(ids, n.ID)
		if n.Locale != "zh-CN" || !strings.Contains(n.Text, "Noodle Bar") || !strings.Contains(n.Text, "#17") || via.phones[i] != "+8613800138000" {
			t.Errorf("%s: %q in %s to %s", n.ID, n.Text, n.Locale, via.phones[i])
		}
	}
	if strings.Join(ids, ",") != "k1,k1,k3" {
		t.Fatalf("customer got %v, want k1 (and its redelivery) and k3", ids)
	}
	if !strings.HasPrefix(via.notes[0].Text, "您在") || !strings.Contains(via.notes[2].Text, "延迟") || !strings.Contains(via.notes[0].Text, "4分钟") {
		t.Errorf("texts %q / %q are not the zh-CN customer templates", via.notes[0].Text, via.notes[2].Text)
	}
}

// TestCustomerPhoneAndLocaleFromPlatformPayloads: the order webhooks of
// Meituan (recipient_phone, a zh-CN platform), Uber Eats (the eater's
// phone from the order the receiver reads) and Deliveroo (the customer's
// contact number) fill the order's customer phone and locale, and the
// customer channel then writes to that phone in that locale, whatever
// locale the rider notification had.
func TestCustomerPhoneAndLocaleFromPlatformPayloads(t *testing.T) {
	cases := map[string]inboundCase{}
	for _, c := range inboundCases() {
		cases[c.name] = c
	}
	for _, c := range []inboundCase{cases["meituan"], cases["ubereats"], cases["deliveroo"]} {
		t.Run(c.name, func(t *testing.T) {
			e, h := c.start(t)
			if code := c.send(t, h, "s1", c.steps[0], c.secret); code != http.StatusOK {
				t.Fatalf("order webhook: %d", code)
			}
			ch, via := e.customer(t)
			now := time.Now()
			n := note("c1", "s1", c.code, wire.KindReadySoon, "", now, ptr(now.Add(4*time.Minute)))
			n.Locale = "en"
			if err := ch.Deliver(context.Background(), n); err != nil {
				t.Fatal(err)
			}
			wantLocale := firstNonEmptyString(c.locale, "en")
			if len(via.notes) != 1 || via.phones[0] != c.phone || via.notes[0].Locale != wantLocale {
				t.Fatalf("customer got %+v to %v, want one message to %s in %s", via.notes, via.phones, c.phone, wantLocale)
			}
		})
	}
}

func firstNonEmptyString(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// TestCustomerSkipsRecordsWithoutPlatformAndUntimedDelays: a record the
// rider's own arrival report made (no platform) gets no customer message;
// once Deliveroo's order.new links that order the arrival is kept, and a
// delayed without a time (a recalled ready) still tells the customer
// nothing, while a timed ready_soon does.
func TestCustomerSkipsRecordsWithoutPlatformAndUntimedDelays(t *testing.T) {
	e := newEnv(t)
	arrived := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	e.connect(t, "s1", deliverooCreds("http://unused"), platform.Order{Store: "s1", OrderID: "6206", RiderArrivedAt: arrived})
	ch, via := e.customer(t)
	now := time.Now()
	deliver := func(n wire.Notification) {
		t.Helper()
		if err := ch.Deliver(context.Background(), n); err != nil {
			t.Fatal(err)
		}
	}
	deliver(note("n1", "s1", "6206", wire.KindReadySoon, "", now, ptr(now.Add(3*time.Minute))))
	if len(via.notes) != 0 {
		t.Fatalf("customer of a non-platform record got %+v", via.notes)
	}
	h := newHooks(t, e, platform.NewDeliveroo())
	body := fixture(t, "deliveroo/order_new.json")
	if code := h.post(t, "s1", body, deliverooHeaders(droHook, "g-link", body)); code != http.StatusOK {
		t.Fatalf("order.new: %d", code)
	}
	o, _, _ := e.orders.Get(context.Background(), "s1", "6206")
	if o.PlatformID != droOrder || !o.RiderArrivedAt.Equal(arrived) {
		t.Fatalf("linked record %+v lost the rider's arrival %v", o, arrived)
	}
	deliver(note("n2", "s1", "6206", wire.KindDelayed, "recall-1", now, nil))
	deliver(note("n3", "s1", "6206", wire.KindReadySoon, "", now, ptr(now.Add(3*time.Minute))))
	if len(via.notes) != 1 || via.notes[0].ID != "n3" {
		t.Fatalf("customer got %+v, want only n3", via.notes)
	}
}
