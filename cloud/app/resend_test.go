package app_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/passline/passline/cloud/app"
	"github.com/passline/passline/cloud/config"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/wire"
)

// postReceipt POSTs body to the rider route what (ack, arrived) and
// returns the status.
func postReceipt(t *testing.T, m *app.Main, rider, order, what, body string) int {
	t.Helper()
	url := fmt.Sprintf("http://%s/v1/riders/%s/orders/%s/%s", m.HTTPAddr(), rider, order, what)
	resp, err := http.Post(url, "application/json", bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func resends(t *testing.T, result string, ms ...*app.Main) float64 {
	var sum float64
	for _, m := range ms {
		sum += relaytest.Metric(t, m.Registry, "passline_relay_ready_resends_total", map[string]string{"result": result})
	}
	return sum
}

// TestUnackedReadyIsResentOnce runs two relay replicas on one NATS with a
// 1 s relay.ready_resend. Of three readies, o1's is never acked, o2's is
// acked at its version through the API, and o3's re-send is already in
// the rider outbox when it falls due (a replica that published it and
// died before acking). A replica restarts while the re-sends wait. o1's
// ready must reach the rider exactly twice, the second marked resent and
// carrying the same version; o2's and o3's exactly as often as before.
func TestUnackedReadyIsResentOnce(t *testing.T) {
	cfg := relaytest.Config(t.TempDir())
	cfg.Relay.ReadyResend = time.Second
	first := relaytest.MustRun(t, cfg)
	replica := func() config.Config {
		c := relaytest.Config(t.TempDir())
		c.Relay.ReadyResend = time.Second
		c.NATS.Embedded.Enabled = false
		c.NATS.URL = first.NATSURL()
		return c
	}
	second := relaytest.MustRun(t, replica())
	nc, js := relaytest.Connect(t, first.NATSURL())
	riders := relaytest.Subscribe(t, nc)
	ctx := context.Background()
	readies := map[string]wire.Decision{}
	for i, order := range []string{"o1", "o2", "o3"} {
		if err := relaytest.Assign(nc, "s1", order, "r1"); err != nil {
			t.Fatal(err)
		}
		d := relaytest.Decision("s1."+order+".ready.1", "s1", order, wire.KindReady)
		d.Seq = uint64(3 + i)
		readies[order] = d
		if err := relaytest.Publish(ctx, js, d); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if !relaytest.WaitFor(10*time.Second, func() bool { d, _, _, _ := riders.Counts(); return d == 3 }) {
		t.Fatal("readies not delivered")
	}
	for order, d := range readies {
		if got := riders.Get(d.ID); len(got) != 1 || got[0].Version != d.Seq || got[0].Resent {
			t.Fatalf("%s first delivery: %+v", order, got)
		}
	}
	// The order view is written without waiting: poll until the ack is
	// accepted (404 until then).
	if !relaytest.WaitFor(5*time.Second, func() bool {
		return postReceipt(t, second, "r1", "o2", "ack", `{"store":"s1","version":4}`) == http.StatusNoContent
	}) {
		t.Fatal("ack of o2 refused")
	}
	if got := postReceipt(t, first, "r1", "o2", "ack", `{"store":"s1","version":1}`); got != http.StatusNoContent {
		t.Fatalf("late older ack: %d", got)
	}
	if got := postReceipt(t, first, "r2", "o1", "ack", `{"store":"s1","version":3}`); got != http.StatusNotFound {
		t.Fatalf("another rider's ack: %d, want 404", got)
	}
	n := riders.Get(readies["o3"].ID)[0]
	n.Resent = true
	b, _ := n.Marshal()
	if _, err := js.Publish(ctx, natsjs.OutboxSubject(0, "r1", n.ID+"/resend"), b); err != nil {
		t.Fatal(err)
	}
	if err := second.Close(); err != nil { // a replica restarts
		t.Fatal(err)
	}
	third := relaytest.MustRun(t, replica())
	if !relaytest.WaitFor(15*time.Second, func() bool {
		return resends(t, "resent", first, third)+resends(t, "acked", first, third)+resends(t, "duplicate", first, third) == 3
	}) {
		t.Fatalf("re-sends not settled: resent %v acked %v duplicate %v", resends(t, "resent", first, third),
			resends(t, "acked", first, third), resends(t, "duplicate", first, third))
	}
	took := time.Since(start)
	// Whatever is still to come would have come by now: the consumer
	// redelivers an unacked message after its 30 s ack wait at the
	// latest, but a replica that saw the re-send refused never sends.
	time.Sleep(2 * cfg.Relay.ReadyResend)
	got := riders.Get(readies["o1"].ID)
	if len(got) != 2 || got[0].Resent || !got[1].Resent || got[1].Version != 3 {
		t.Fatalf("o1 (never acked): %d notifications %+v, want the ready and one re-send at version 3", len(got), got)
	}
	if got := riders.Get(readies["o2"].ID); len(got) != 1 {
		t.Fatalf("o2 (acked): %d notifications, want 1", len(got))
	}
	if got := riders.Get(readies["o3"].ID); len(got) != 2 {
		t.Fatalf("o3 (re-send already in the outbox): %d notifications, want 2 (the first and the one already re-sent)", len(got))
	}
	if _, _, dups, bad := riders.Counts(); bad != 0 || dups != 2 {
		t.Fatalf("rider messages: %d repeats, %d unreadable; want 2 repeats (o1's and o3's re-sends)", dups, bad)
	}
	t.Logf("3 readies, delay %s: resent %v, acked %v, duplicate %v; settled %s after publishing", cfg.Relay.ReadyResend,
		resends(t, "resent", first, third), resends(t, "acked", first, third), resends(t, "duplicate", first, third), took.Round(time.Millisecond))
}

// TestManyUnackedReadiesResentOnceEach: 100 readies nobody acks, two
// replicas sharing the re-send consumer: each reaches its rider exactly
// twice, and the replicas together re-send 100.
func TestManyUnackedReadiesResentOnceEach(t *testing.T) {
	cfg := relaytest.Config(t.TempDir())
	cfg.Relay.ReadyResend = time.Second
	first := relaytest.MustRun(t, cfg)
	rc := relaytest.Config(t.TempDir())
	rc.Relay.ReadyResend = time.Second
	rc.NATS.Embedded.Enabled, rc.NATS.URL = false, first.NATSURL()
	second := relaytest.MustRun(t, rc)
	nc, js := relaytest.Connect(t, first.NATSURL())
	riders := relaytest.Subscribe(t, nc)
	ctx := context.Background()
	const n = 100
	for i := range n {
		order := fmt.Sprintf("m%d", i)
		if err := relaytest.Assign(nc, "s1", order, fmt.Sprintf("r%d", i%7)); err != nil {
			t.Fatal(err)
		}
		d := relaytest.Decision("s1."+order+".ready.1", "s1", order, wire.KindReady)
		d.Seq = 1
		if err := relaytest.Publish(ctx, js, d); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if !relaytest.WaitFor(30*time.Second, func() bool { return resends(t, "resent", first, second) == n }) {
		t.Fatalf("re-sent %v of %d", resends(t, "resent", first, second), n)
	}
	took := time.Since(start)
	time.Sleep(2 * cfg.Relay.ReadyResend) // a second re-send would be due by now
	distinct, total, dups, bad := riders.Counts()
	if distinct != n || total != 2*n || dups != n || bad != 0 {
		t.Fatalf("rider messages: %d decisions, %d messages, %d repeats, %d unreadable; want %d, %d, %d, 0", distinct, total, dups, bad, n, 2*n, n)
	}
	t.Logf("%d unacked readies, 2 replicas, delay %s: every one re-sent once (by the first %v, the second %v), all within %s of publishing",
		n, cfg.Relay.ReadyResend, resends(t, "resent", first), resends(t, "resent", second), took.Round(time.Millisecond))
}

// TestDemoRiderAcksItsAutoAssignedOrder: in the demo no platform assigns
// riders (demo.auto_assign); the rider page of the simulated rider may
// ack and arrive for the order, any other rider gets 404.
func TestDemoRiderAcksItsAutoAssignedOrder(t *testing.T) {
	cfg := relaytest.Config(t.TempDir())
	cfg.Demo.AutoAssign, cfg.Demo.Riders = true, 5
	m := relaytest.MustRun(t, cfg)
	nc, js := relaytest.Connect(t, m.NATSURL())
	riders := relaytest.Subscribe(t, nc)
	d := relaytest.Decision("s1.d1.eta.1", "s1", "d1", wire.KindReadySoon)
	d.Seq = 1
	if err := relaytest.Publish(context.Background(), js, d); err != nil {
		t.Fatal(err)
	}
	if !relaytest.WaitFor(10*time.Second, func() bool { return len(riders.Get(d.ID)) == 1 }) {
		t.Fatal("not delivered")
	}
	rider := riders.Get(d.ID)[0].Rider
	other := "rider-1"
	if rider == other {
		other = "rider-2"
	}
	if !relaytest.WaitFor(5*time.Second, func() bool {
		return postReceipt(t, m, rider, "d1", "ack", `{"store":"s1","version":1}`) == http.StatusNoContent
	}) {
		t.Fatalf("%s's ack of its auto-assigned order refused", rider)
	}
	if got := postReceipt(t, m, rider, "d1", "arrived", `{"store":"s1"}`); got != http.StatusNoContent {
		t.Fatalf("arrived: %d", got)
	}
	if got := postReceipt(t, m, other, "d1", "arrived", `{"store":"s1"}`); got != http.StatusNotFound {
		t.Fatalf("%s, not the order's rider: %d, want 404", other, got)
	}
}
