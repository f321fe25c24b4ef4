package natsjs_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/natsd"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/relay"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/wire"
)

func setup(t *testing.T) (jetstream.JetStream, *natsjs.Buckets) {
	t.Helper()
	s, err := natsd.Start(natsd.Options{Listen: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	_, js := relaytest.Connect(t, s.ClientURL())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	b, err := natsjs.Setup(ctx, js, natsjs.Options{Replicas: 1, DuplicateWindow: time.Minute, MaxAge: time.Hour,
		IdempotencyTTL: time.Hour, AssignmentTTL: time.Hour, PendingTTL: time.Hour, ETAInterval: time.Minute,
		OrderViewTTL: time.Hour, OutboxDuplicate: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := natsjs.Setup(ctx, js, natsjs.Options{Replicas: 1, DuplicateWindow: time.Minute, MaxAge: time.Hour,
		IdempotencyTTL: time.Hour, AssignmentTTL: time.Hour, PendingTTL: time.Hour, ETAInterval: time.Minute,
		OrderViewTTL: time.Hour, OutboxDuplicate: time.Minute}); err != nil {
		t.Fatalf("second setup (another replica starting): %v", err)
	}
	return js, b
}

func TestMarksCreateThenMerge(t *testing.T) {
	_, b := setup(t)
	ctx := context.Background()
	m := natsjs.Marks{KV: b.Delivered}
	id := "decision with spaces/and*wildcards>"
	if _, rev, err := m.Get(ctx, id); err != nil || rev != 0 {
		t.Fatalf("fresh mark rev %d err %v", rev, err)
	}
	if err := m.Save(ctx, id, relay.Mark{Channels: []string{"rider"}}, 0); err != nil {
		t.Fatal(err)
	}
	// Another replica saved meanwhile: create-if-absent fails and merges.
	if err := m.Save(ctx, id, relay.Mark{Channels: []string{"webhook"}}, 0); err != nil {
		t.Fatal(err)
	}
	got, rev, err := m.Get(ctx, id)
	if err != nil || rev == 0 || len(got.Channels) != 2 {
		t.Fatalf("mark %+v rev %d err %v", got, rev, err)
	}
	if err := m.Save(ctx, id, relay.Mark{Channels: []string{"rider"}}, rev+7); err == nil {
		t.Fatal("update at a wrong revision succeeded")
	}
}

func TestETALimit(t *testing.T) {
	_, b := setup(t)
	ctx := context.Background()
	l := natsjs.ETALimit{KV: b.ETA}
	d1 := relaytest.Decision("e1", "s1", "o1", wire.KindETA)
	d2 := relaytest.Decision("e2", "s1", "o1", wire.KindETA)
	d3 := relaytest.Decision("e3", "s1", "o2", wire.KindETA)
	for _, tc := range []struct {
		d    wire.Decision
		want bool
	}{{d1, true}, {d1, true}, {d2, false}, {d3, true}} {
		if ok, err := l.AllowETA(ctx, tc.d); err != nil || ok != tc.want {
			t.Errorf("%s/%s: %v %v, want %v", tc.d.OrderID, tc.d.ID, ok, err, tc.want)
		}
	}
}

func TestOrderView(t *testing.T) {
	js, b := setup(t)
	ctx := context.Background()
	o := natsjs.Orders{KV: b.Orders, JS: js}
	d := relaytest.Decision("v1", "s1", "o1", wire.KindReadySoon)
	if err := o.Update(ctx, d); err != nil {
		t.Fatal(err)
	}
	var st natsjs.OrderState
	ok := relaytest.WaitFor(5*time.Second, func() bool {
		var found bool
		st, found, _ = o.Get(ctx, "s1", "o1")
		return found
	})
	if !ok || st.Status != wire.KindReadySoon || st.ETA == nil || st.Probability != 0.9 || st.DecisionID != "v1" {
		t.Fatalf("order view %+v found %v", st, ok)
	}
	if _, found, err := o.Get(ctx, "s1", "none"); found || err != nil {
		t.Fatalf("missing order: found %v err %v", found, err)
	}
}

func TestPendingParkReleaseSweep(t *testing.T) {
	js, b := setup(t)
	ctx := context.Background()
	p := natsjs.Pending{KV: b.Pending, JS: js}
	park := func(d wire.Decision) {
		raw, err := d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Park(ctx, d, raw); err != nil {
			t.Fatal(err)
		}
	}
	park(relaytest.Decision("a1", "s1", "o1", wire.KindReady))
	park(relaytest.Decision("a2", "s1", "o1", wire.KindETA))
	short := relaytest.Decision("b1", "s1", "o2", wire.KindETA)
	short.ExpiresAt = short.CreatedAt.Add(time.Second)
	park(short)

	if n, err := p.Release(ctx, "s1", "none"); n != 0 || err != nil {
		t.Fatalf("release of an order with nothing waiting: %d %v", n, err)
	}
	if n, err := p.Release(ctx, "s1", "o1"); n != 2 || err != nil {
		t.Fatalf("release o1: %d %v", n, err)
	}
	if n, _ := p.Release(ctx, "s1", "o1"); n != 0 {
		t.Fatalf("second release of o1 released %d", n)
	}
	s, err := js.Stream(ctx, wire.StreamDecisions)
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := s.Info(ctx); info.State.Msgs != 2 {
		t.Fatalf("DECISIONS holds %d released decisions, want 2", info.State.Msgs)
	}
	if n, err := p.Sweep(ctx, time.Now()); n != 0 || err != nil {
		t.Fatalf("sweep before expiry: %d %v", n, err)
	}
	if n, err := p.Sweep(ctx, time.Now().Add(2*time.Second)); n != 1 || err != nil {
		t.Fatalf("sweep after expiry: %d %v", n, err)
	}
	if n, _ := p.Release(ctx, "s1", "o2"); n != 0 {
		t.Fatalf("expired decision released")
	}
}
