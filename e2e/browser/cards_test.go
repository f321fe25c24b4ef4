package browser_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	cloudapp "github.com/passline/passline/cloud/app"
	cloudconfig "github.com/passline/passline/cloud/config"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/wire"
)

// riderLog records the notifications on one rider's NATS subject.
type riderLog struct {
	mu  sync.Mutex
	all []wire.Notification
}

func (l *riderLog) of(order string) []wire.Notification {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []wire.Notification
	for _, n := range l.all {
		if n.OrderID == order {
			out = append(out, n)
		}
	}
	return out
}

// TestRiderCardUpdatesInPlaceAndIsAcked drives the rider page in Chromium
// against a cloud with relay.ready_resend 3 s:
//
//   - order A's decisions eta (seq 1), ready_soon (2) and ready (3) change
//     one card in place, never a second one; a delayed of seq 2 arriving
//     after the ready leaves the card at ready;
//   - the page acks every card by itself: the ack of version 3 reaches the
//     API (PASSLINE_RIDER_ACKS) and A's ready is not re-sent;
//   - "Arrived" stores the order's rider_arrived_at where the KPIs read it;
//   - order B's ready, whose acks the browser blocks (a phone that lost
//     them), comes back once, marked resent, updates B's card to "sent
//     again", and is not sent a third time.
func TestRiderCardUpdatesInPlaceAndIsAcked(t *testing.T) {
	b := startBrowser(t)
	cc := cloudconfig.DefaultConfig()
	cc.DataDir, cc.HTTP.Listen, cc.LogLevel = t.TempDir(), "127.0.0.1:0", "error"
	cc.NATS.Embedded = cloudconfig.Embedded{Enabled: true, Listen: "127.0.0.1:0"}
	cc.Auth.InsecureDev = true
	cc.Relay.ReadyResend = 3 * time.Second
	cloud := cloudapp.NewMain()
	cloud.Config, cloud.Logger = cc, quiet()
	if err := cloud.Run(context.Background()); err != nil {
		t.Fatalf("cloud: %v", err)
	}
	t.Cleanup(func() { _ = cloud.Close() })
	nc, js := relaytest.Connect(t, cloud.NATSURL())
	store, rider := uniqueID("cards"), uniqueID("rider")
	orderA, orderB := "a-"+uniqueID("")[1:9], "b-"+uniqueID("")[1:9]
	log := &riderLog{}
	sub, err := nc.Subscribe(wire.RiderFilter(rider), func(m *nats.Msg) {
		if n, err := wire.DecodeNotification(m.Data); err == nil {
			log.mu.Lock()
			log.all = append(log.all, n)
			log.mu.Unlock()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	for _, order := range []string{orderA, orderB} {
		if err := relaytest.Assign(nc, store, order, rider); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	publish := func(order string, kind wire.DecisionKind, seq uint64) wire.Decision {
		t.Helper()
		d := relaytest.Decision(fmt.Sprintf("%s.%s.%s.%d", store, order, kind, seq), store, order, kind)
		d.Seq = seq
		if err := relaytest.Publish(ctx, js, d); err != nil {
			t.Fatal(err)
		}
		return d
	}

	p := b.open("http://" + cloud.HTTPAddr() + "/riders/" + rider + "/")
	p.viewport(412, 780, true)
	p.waitFor(10*time.Second, "the live rider page", `document.getElementById('live').classList.contains('on')`)

	// B's acks never leave the browser: the rider's phone lost them.
	if err := p.call("Network.enable", map[string]any{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := p.call("Network.setBlockedURLs", map[string]any{"urls": []string{"*/orders/" + orderB + "/ack"}}, nil); err != nil {
		t.Fatal(err)
	}
	publish(orderB, wire.KindReady, 1)
	waitUntil(t, 10*time.Second, "B's ready on NATS", func() bool { return len(log.of(orderB)) == 1 })
	bDelivered := time.Now()
	cardB := fmt.Sprintf(`document.querySelector('.note[data-order=%q]')`, orderB)
	p.waitFor(10*time.Second, "B's ready on the page", cardB+`.dataset.kind === "ready"`)

	cardA := fmt.Sprintf(`document.querySelector('.note[data-order=%q]')`, orderA)
	cards := `document.querySelectorAll('.note').length`
	for _, step := range []struct {
		kind wire.DecisionKind
		seq  uint64
	}{{wire.KindETA, 1}, {wire.KindReadySoon, 2}, {wire.KindReady, 3}} {
		publish(orderA, step.kind, step.seq)
		took := p.waitFor(10*time.Second, "A's card at "+string(step.kind),
			fmt.Sprintf(`%s.dataset.kind === %q && %s.dataset.version === "%d"`, cardA, step.kind, cardA, step.seq))
		if n := string(p.eval(fmt.Sprintf(`document.querySelectorAll('.note[data-order=%q]').length`, orderA))); n != "1" {
			t.Fatalf("after %s: %s cards for order A, want 1", step.kind, n)
		}
		t.Logf("A's card became %s %s after the decision was published", step.kind, took.Round(time.Millisecond))
	}
	p.screenshot("rider-card-ready")

	// A late, older decision reaches the rider but not the card.
	publish(orderA, wire.KindDelayed, 2)
	waitUntil(t, 10*time.Second, "the late delayed on NATS", func() bool { return len(log.of(orderA)) == 4 })
	p.waitFor(5*time.Second, "the page to have handled the late delayed", `true`)
	if kind := string(p.eval(cardA + `.dataset.kind`)); kind != `"ready"` {
		t.Fatalf("a late delayed (seq 2) replaced the ready (seq 3): card shows %s", kind)
	}

	// The page's ack of version 3 reaches the API.
	acks, err := js.KeyValue(ctx, natsjs.BucketRiderAcks)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 10*time.Second, "A's ack of version 3 in PASSLINE_RIDER_ACKS", func() bool {
		a, ok, err := natsjs.RiderAcks{KV: acks}.Get(ctx, store, orderA)
		return err == nil && ok && a.Version == 3 && a.Rider == rider
	})
	p.waitFor(5*time.Second, "A's card marked acked", cardA+`.dataset.acked === "3"`)

	// Arrived.
	p.eval(cardA + `.querySelector('button.arrived').click()`)
	p.waitFor(5*time.Second, "A's card marked arrived", cardA+`.dataset.arrived === "1"`)
	orders, err := js.KeyValue(ctx, natsjs.BucketPlatformOrders)
	if err != nil {
		t.Fatal(err)
	}
	o, ok, err := natsjs.PlatformOrders{KV: orders}.Get(ctx, store, orderA)
	if err != nil || !ok || o.RiderArrivedAt.IsZero() || o.Rider != rider {
		t.Fatalf("A's platform order record after Arrived: %+v %v %v", o, ok, err)
	}

	// B comes back once, resent, and the page shows it.
	resends := func(result string) float64 {
		return relaytest.Metric(t, cloud.Registry, "passline_relay_ready_resends_total", map[string]string{"result": result})
	}
	if !relaytest.WaitFor(10*time.Second, func() bool { return len(log.of(orderB)) == 2 }) {
		t.Fatalf("B's ready not re-sent %s after its delivery: %d notifications; checks resent %v acked %v duplicate %v failed %v",
			time.Since(bDelivered), len(log.of(orderB)), resends("resent"), resends("acked"), resends("duplicate"), resends("failed"))
	}
	p.waitFor(10*time.Second, "B's re-sent ready on the page", cardB+`.dataset.kind === "ready" && `+cardB+`.querySelector('.meta').textContent.includes('sent again')`)
	resentAfter := time.Since(bDelivered)
	if n := string(p.eval(cards)); n != "2" {
		t.Fatalf("%s cards on the page, want 2 (A and B)", n)
	}
	if v := string(p.eval(cardB + `.dataset.acked || "none"`)); v != `"none"` {
		t.Fatalf("B's card acked (%s) although its acks are blocked", v)
	}
	p.screenshot("rider-cards")
	// Both readies are settled once their delay passed: B re-sent, A
	// acked. Nothing more may come after that.
	waitUntil(t, 10*time.Second, "A's and B's re-send checks", func() bool { return resends("resent") == 1 && resends("acked") == 1 })
	time.Sleep(cc.Relay.ReadyResend) // a second re-send would be due by now
	bs := log.of(orderB)
	if len(bs) != 2 || bs[0].Resent || !bs[1].Resent || bs[1].ID != bs[0].ID || bs[1].Version != 1 {
		t.Fatalf("B's notifications %+v, want the ready and one re-send", bs)
	}
	for _, n := range log.of(orderA) {
		if n.Resent {
			t.Fatalf("A's acked ready was re-sent: %+v", n)
		}
	}
	t.Logf("B's unacked ready re-sent once %s after its delivery (delay %s); A acked at version 3, not re-sent; metrics: resent %v, acked %v",
		resentAfter.Round(time.Millisecond), cc.Relay.ReadyResend, resends("resent"), resends("acked"))
}
