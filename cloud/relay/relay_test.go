package relay_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/relay"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/wire"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func decision(id, order string, kind wire.DecisionKind) wire.Decision {
	d := relaytest.Decision(id, "s1", order, kind)
	d.CreatedAt, d.ExpiresAt = t0.Add(-time.Second), t0.Add(time.Hour)
	if d.ETA != nil {
		eta := t0.Add(150 * time.Second)
		d.ETA = &eta
	}
	return d
}

func assign(h *harness, order, rider string) {
	_ = h.assign.Put(context.Background(), wire.Assignment{Store: "s1", OrderID: order, Rider: rider, At: t0})
}

func TestHandleOutcomes(t *testing.T) {
	expired := decision("e1", "o1", wire.KindETA)
	expired.CreatedAt, expired.ExpiresAt = t0.Add(-2*time.Hour), t0.Add(-time.Hour)
	for _, tc := range []struct {
		name   string
		raw    func(t *testing.T) []byte
		action relay.Action
		result string
		sent   int
	}{
		{"delivered", func(t *testing.T) []byte { return raw(t, decision("d1", "o1", wire.KindReady)) }, relay.Ack, "delivered", 1},
		{"not json", func(*testing.T) []byte { return []byte("{") }, relay.Dead, "invalid", 0},
		{"invalid field", func(*testing.T) []byte { return []byte(`{"v":1,"id":"x","store":"s1","order_id":"o1","kind":"bogus"}`) }, relay.Dead, "invalid", 0},
		{"unknown version", func(*testing.T) []byte { return []byte(`{"v":9}`) }, relay.Dead, "invalid", 0},
		{"expired", func(t *testing.T) []byte { return raw(t, expired) }, relay.Ack, "expired", 0},
		{"no rider yet", func(t *testing.T) []byte { return raw(t, decision("w1", "o2", wire.KindReady)) }, relay.Ack, "waiting", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := &fakeChannel{name: "rider"}
			h := newHarness(t, t0, ch)
			assign(h, "o1", "r1")
			out := h.relay.Handle(context.Background(), tc.raw(t))
			if out.Action != tc.action || out.Result != tc.result {
				t.Fatalf("outcome = %+v, want %v %s", out, tc.action, tc.result)
			}
			if got := len(ch.delivered()); got != tc.sent {
				t.Fatalf("delivered %d, want %d", got, tc.sent)
			}
		})
	}
}

func TestNotificationFields(t *testing.T) {
	ch := &fakeChannel{name: "rider"}
	h := newHarness(t, t0, ch)
	assign(h, "o1", "r1")
	h.relay.Handle(context.Background(), raw(t, decision("d1", "o1", wire.KindReadySoon)))
	got := ch.delivered()
	if len(got) != 1 {
		t.Fatalf("delivered %d", len(got))
	}
	n := got[0]
	if n.ID != "d1" || n.Rider != "r1" || n.Kind != wire.KindReadySoon || n.Locale != "en" || n.Minutes == nil || *n.Minutes != 3 || n.TraceID != "trace-d1" {
		t.Fatalf("notification = %+v", n)
	}
	if want := "Noodle Bar order #o1 will be ready in about 3 min"; n.Text != want {
		t.Fatalf("text %q, want %q", n.Text, want)
	}
	if err := n.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestRedeliveryIsNotDeliveredTwice(t *testing.T) {
	ch := &fakeChannel{name: "rider"}
	h := newHarness(t, t0, ch)
	assign(h, "o1", "r1")
	b := raw(t, decision("d1", "o1", wire.KindReady))
	for i := range 3 {
		out := h.relay.Handle(context.Background(), b)
		want := "delivered"
		if i > 0 {
			want = "duplicate"
		}
		if out.Action != relay.Ack || out.Result != want {
			t.Fatalf("handle %d: %+v, want %s", i, out, want)
		}
	}
	if got := len(ch.delivered()); got != 1 {
		t.Fatalf("delivered %d times", got)
	}
}

func TestWaitingDecisionDeliveredOnAssignment(t *testing.T) {
	ch := &fakeChannel{name: "rider"}
	h := newHarness(t, t0, ch)
	h.relay.Handle(context.Background(), raw(t, decision("d1", "o5", wire.KindReady)))
	if len(ch.delivered()) != 0 {
		t.Fatal("delivered without a rider")
	}
	if err := h.relay.Assign(context.Background(), wire.Assignment{Store: "s1", OrderID: "o5", Rider: "r9", At: t0}); err != nil {
		t.Fatal(err)
	}
	got := ch.delivered()
	if len(got) != 1 || got[0].Rider != "r9" {
		t.Fatalf("after assignment delivered %+v", got)
	}
	if err := h.relay.Assign(context.Background(), wire.Assignment{Store: "s1", OrderID: "bad order"}); err == nil {
		t.Fatal("invalid assignment accepted")
	}
}

func TestETAAtMostOncePerInterval(t *testing.T) {
	ch := &fakeChannel{name: "rider"}
	h := newHarness(t, t0, ch)
	assign(h, "o1", "r1")
	first := raw(t, decision("eta-1", "o1", wire.KindETA))
	if out := h.relay.Handle(context.Background(), first); out.Result != "delivered" {
		t.Fatalf("first eta: %+v", out)
	}
	if out := h.relay.Handle(context.Background(), raw(t, decision("eta-2", "o1", wire.KindETA))); out.Result != "eta_limited" || out.Action != relay.Ack {
		t.Fatalf("second eta: %+v", out)
	}
	if out := h.relay.Handle(context.Background(), raw(t, decision("rd-1", "o1", wire.KindReady))); out.Result != "delivered" {
		t.Fatalf("ready after eta: %+v", out)
	}
}

// A failing channel is retried alone; a hanging one costs the others
// nothing; a permanent failure is not retried.
func TestChannelsAreIndependent(t *testing.T) {
	var failures int
	rider := &fakeChannel{name: "rider"}
	flaky := &fakeChannel{name: "webhook", fn: func(context.Context, wire.Notification) error {
		failures++
		if failures == 1 {
			return errors.New("503")
		}
		return nil
	}}
	hang := &fakeChannel{name: "hang", fn: func(ctx context.Context, _ wire.Notification) error {
		<-ctx.Done()
		return ctx.Err()
	}}
	perm := &fakeChannel{name: "sms", fn: func(context.Context, wire.Notification) error {
		return fmt.Errorf("bad number: %w", cloud.ErrPermanent)
	}}
	h := newHarness(t, t0, rider, flaky, hang, perm)
	assign(h, "o1", "r1")
	b := raw(t, decision("d1", "o1", wire.KindReady))

	start := time.Now()
	out := h.relay.Handle(context.Background(), b)
	if out.Action != relay.Retry || !strings.Contains(out.Err.Error(), "webhook") || !strings.Contains(out.Err.Error(), "hang") {
		t.Fatalf("first: %+v", out)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("a hanging channel held the decision for %s", took)
	}
	if len(rider.delivered()) != 1 {
		t.Fatal("rider not delivered while another channel failed")
	}
	mark, _, _ := h.marks.Get(context.Background(), "d1")
	if strings.Join(mark.Channels, ",") != "rider,sms" {
		t.Fatalf("mark after first attempt = %v", mark.Channels)
	}
	out = h.relay.Handle(context.Background(), b)
	if out.Action != relay.Retry || strings.Contains(out.Err.Error(), "webhook") {
		t.Fatalf("second: %+v", out)
	}
	if len(rider.delivered()) != 1 || len(flaky.delivered()) != 1 {
		t.Fatalf("second attempt: rider %d, webhook %d deliveries", len(rider.delivered()), len(flaky.delivered()))
	}
}

func TestAutoAssignIsDeterministic(t *testing.T) {
	d := decision("d1", "o77", wire.KindReady)
	a := relay.AutoAssign(d, 5, t0)
	for range 10 {
		if b := relay.AutoAssign(d, 5, t0); b.Rider != a.Rider {
			t.Fatalf("rider changed: %s then %s", a.Rider, b.Rider)
		}
	}
	if err := a.Validate(); err != nil {
		t.Fatal(err)
	}
}

type upper struct{}

func (upper) Phrase(_ context.Context, f cloud.Facts, fallback string) (string, bool) {
	return strings.ToUpper(fallback), true
}

func TestPhraserRewritesText(t *testing.T) {
	ch := &fakeChannel{name: "rider"}
	h := newHarness(t, t0, ch)
	h.relay.Phraser = upper{}
	assign(h, "o1", "r1")
	h.relay.Handle(context.Background(), raw(t, decision("d1", "o1", wire.KindReady)))
	if got := ch.delivered(); len(got) != 1 || got[0].Text == strings.ToUpper(got[0].Text) {
		t.Fatalf("phrased although the store's profile does not ask for model text: %+v", got)
	}
	h.relay.Profiles = profiles{"s1": {Name: "Noodle Bar", ModelText: true}}
	h.relay.Handle(context.Background(), raw(t, decision("d2", "o1", wire.KindReady)))
	if got := ch.delivered(); len(got) != 2 || got[1].Text != strings.ToUpper(got[1].Text) {
		t.Fatalf("got %+v", got)
	}
}

// FuzzHandle feeds arbitrary bytes as a decision: never a panic, and
// anything that is not a valid decision is dead-lettered.
func FuzzHandle(f *testing.F) {
	good, _ := decision("d1", "o1", wire.KindReady).Marshal()
	for _, s := range [][]byte{good, []byte("{"), []byte(`{"v":1}`), []byte(`null`), []byte(`{"v":1,"id":"x","store":"s1","order_id":"o1","kind":"eta","created_at":"2026-11-24T12:00:00Z","expires_at":"2027-01-01T00:00:00Z","probability":2}`)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h := newHarness(t, t0, &fakeChannel{name: "rider"})
		assign(h, "o1", "r1")
		out := h.relay.Handle(context.Background(), b)
		if _, err := wire.DecodeDecision(b); err != nil && out.Action != relay.Dead {
			t.Fatalf("invalid decision got %+v", out)
		}
	})
}

// A first delivery stored soon after the decision was made skips the mark
// read; a redelivery, or one stored after half the window, reads it.
func TestFirstSightSkipsMarkRead(t *testing.T) {
	ch := &fakeChannel{name: "rider"}
	h := newHarness(t, t0, ch)
	h.relay.DedupeWindow = time.Hour
	assign(h, "o1", "r1")
	d := decision("d1", "o1", wire.KindReady)
	b := raw(t, d)
	h.relay.Handle(context.Background(), b) // delivered, marked
	for _, tc := range []struct {
		name    string
		del     relay.Delivery
		wantOut string
	}{
		{"redelivery reads the mark", relay.Delivery{Raw: b, Attempt: 2, StoredAt: d.CreatedAt.Add(time.Second)}, "duplicate"},
		{"republished after half the window reads the mark", relay.Delivery{Raw: b, Attempt: 1, StoredAt: d.CreatedAt.Add(31 * time.Minute)}, "duplicate"},
		{"store clock far ahead reads the mark", relay.Delivery{Raw: b, Attempt: 1, StoredAt: d.CreatedAt.Add(-2 * time.Minute)}, "duplicate"},
	} {
		if out := h.relay.HandleDelivery(context.Background(), tc.del); out.Result != tc.wantOut {
			t.Errorf("%s: %+v", tc.name, out)
		}
	}
	// Within the window JetStream would have dropped a copy, so a first
	// delivery is trusted; the mark save then merges with the existing mark.
	out := h.relay.HandleDelivery(context.Background(), relay.Delivery{Raw: raw(t, decision("d2", "o1", wire.KindReady)), Attempt: 1, StoredAt: d.CreatedAt.Add(time.Second)})
	if out.Result != "delivered" {
		t.Fatalf("fresh first delivery: %+v", out)
	}
}

// A channel with its own longer timeout finishes; the others keep the default.
func TestPerChannelTimeouts(t *testing.T) {
	slow := func(ctx context.Context, _ wire.Notification) error {
		select {
		case <-time.After(300 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	hook := &fakeChannel{name: "webhook:m1", fn: slow}
	sms := &fakeChannel{name: "sms", fn: slow}
	fan := relay.NewFanout([]cloud.Channel{hook, sms}, 1, 100*time.Millisecond, map[string]time.Duration{"webhook": time.Second},
		relay.NewMetrics(prometheus.NewRegistry()))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fan.Start(ctx)
	defer fan.Close()
	n := wire.Notification{ID: "d1", Rider: "r1", Store: "s1", OrderID: "o1", Kind: wire.KindReady, Text: "x", SentAt: t0}
	res := fan.Deliver(ctx, n, t0, nil)
	if res["webhook:m1"] != nil || !errors.Is(res["sms"], relay.ErrTimeout) && !errors.Is(res["sms"], context.DeadlineExceeded) {
		t.Fatalf("results %v", res)
	}
}

// TestRiderlessChannelsDoNotWaitForRider: a platform-like channel gets a
// decision before any rider is assigned, the rider channel only once the
// rider is, and each exactly once: through a redelivery, the release, and a
// released copy that looks like a first sight.
func TestRiderlessChannelsDoNotWaitForRider(t *testing.T) {
	rider := &fakeChannel{name: "rider"}
	fail := errors.New("platform down")
	var down atomic.Bool
	plat := &fakeChannel{name: "platform:deliveroo", riderless: true, fn: func(context.Context, wire.Notification) error {
		if down.Load() {
			return fail
		}
		return nil
	}}
	h := newHarness(t, t0, rider, plat)
	h.relay.DedupeWindow = 2 * time.Minute
	ctx := context.Background()
	b := raw(t, decision("d1", "o5", wire.KindReady))

	down.Store(true)
	if out := h.relay.HandleDelivery(ctx, relay.Delivery{Raw: b, Attempt: 1, StoredAt: t0}); out.Action != relay.Retry {
		t.Fatalf("platform failing: %+v, want a retry", out)
	}
	if len(h.pending.parked) != 0 {
		t.Fatal("parked although the platform must be retried")
	}
	down.Store(false)
	for attempt := 2; attempt <= 3; attempt++ {
		if out := h.relay.HandleDelivery(ctx, relay.Delivery{Raw: b, Attempt: attempt, StoredAt: t0}); out.Action != relay.Ack || out.Result != "waiting" {
			t.Fatalf("attempt %d: %+v, want waiting", attempt, out)
		}
	}
	if got := plat.delivered(); len(got) != 1 || got[0].Rider != "" || got[0].Kind != wire.KindReady {
		t.Fatalf("platform got %+v before the rider was assigned, want d1 once", got)
	}
	if len(rider.delivered()) != 0 {
		t.Fatal("rider channel delivered without a rider")
	}
	if err := h.relay.Assign(ctx, wire.Assignment{Store: "s1", OrderID: "o5", Rider: "r9", At: t0}); err != nil {
		t.Fatal(err)
	}
	// A released copy stored within the duplicate window, first delivery.
	if out := h.relay.HandleDelivery(ctx, relay.Delivery{Raw: b, Attempt: 1, StoredAt: t0, Released: true}); out.Action != relay.Ack || out.Result != "duplicate" {
		t.Fatalf("released copy: %+v, want duplicate", out)
	}
	if got := rider.delivered(); len(got) != 1 || got[0].Rider != "r9" {
		t.Fatalf("rider got %+v, want d1 once for r9", got)
	}
	if got := plat.delivered(); len(got) != 1 {
		t.Fatalf("platform got d1 %d times, want once", len(got))
	}
}

// TestRiderlessNotYetWaitsForRider: a riderless channel that cannot place
// the decision before the rider is known (cloud.ErrNotYet: the platform
// links the order with its courier) is neither retried nor marked; it
// gets the decision, with the rider, when the assignment releases it.
func TestRiderlessNotYetWaitsForRider(t *testing.T) {
	rider := &fakeChannel{name: "rider"}
	plat := &fakeChannel{name: "platform:doordash", riderless: true, fn: func(_ context.Context, n wire.Notification) error {
		if n.Rider == "" {
			return cloud.ErrNotYet
		}
		return nil
	}}
	h := newHarness(t, t0, rider, plat)
	ctx := context.Background()
	if out := h.relay.Handle(ctx, raw(t, decision("d1", "o7", wire.KindReady))); out.Action != relay.Ack || out.Result != "waiting" {
		t.Fatalf("before the rider: %+v, want waiting", out)
	}
	if len(plat.delivered()) != 0 || len(rider.delivered()) != 0 {
		t.Fatal("delivered before the rider was known")
	}
	if err := h.relay.Assign(ctx, wire.Assignment{Store: "s1", OrderID: "o7", Rider: "r3", At: t0}); err != nil {
		t.Fatal(err)
	}
	if got := plat.delivered(); len(got) != 1 || got[0].Rider != "r3" {
		t.Fatalf("platform got %+v after the assignment, want d1 once with r3", got)
	}
	if got := rider.delivered(); len(got) != 1 {
		t.Fatalf("rider got %d", len(got))
	}
}
