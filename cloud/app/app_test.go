package app_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/wire"
)

func TestDecisionReachesAssignedRider(t *testing.T) {
	m := relaytest.MustRun(t, relaytest.Config(t.TempDir()))
	nc, js := relaytest.Connect(t, m.NATSURL())
	riders := relaytest.Subscribe(t, nc)
	ctx := context.Background()

	d := relaytest.Decision("dec-1", "store-1", "order-1", wire.KindReady)
	if err := relaytest.Publish(ctx, js, d); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the decision now waits for its rider
	if got := riders.Get("dec-1"); len(got) != 0 {
		t.Fatalf("delivered before any assignment: %+v", got)
	}
	if err := relaytest.Assign(nc, "store-1", "order-1", "rider-7"); err != nil {
		t.Fatal(err)
	}
	if !relaytest.WaitFor(10*time.Second, func() bool { return len(riders.Get("dec-1")) > 0 }) {
		t.Fatal("no notification for dec-1 within 10s of the assignment")
	}
	n := riders.Get("dec-1")[0]
	if n.Rider != "rider-7" || n.OrderID != "order-1" || n.Kind != wire.KindReady || n.Text == "" || n.TraceID != "trace-dec-1" {
		t.Fatalf("notification = %+v", n)
	}
	// Assigned orders go straight through.
	d2 := relaytest.Decision("dec-2", "store-1", "order-1", wire.KindCancelled)
	if err := relaytest.Publish(ctx, js, d2); err != nil {
		t.Fatal(err)
	}
	if !relaytest.WaitFor(10*time.Second, func() bool { return len(riders.Get("dec-2")) == 1 }) {
		t.Fatal("no notification for dec-2")
	}
	if !strings.Contains(riders.Get("dec-2")[0].Text, "cancelled") {
		t.Fatalf("text %q is not the English cancelled template", riders.Get("dec-2")[0].Text)
	}
}

func TestAutoAssignAndHTTP(t *testing.T) {
	cfg := relaytest.Config(t.TempDir())
	cfg.Demo.AutoAssign, cfg.Demo.Riders = true, 3
	m := relaytest.MustRun(t, cfg)
	nc, js := relaytest.Connect(t, m.NATSURL())
	riders := relaytest.Subscribe(t, nc)

	if err := relaytest.Publish(context.Background(), js, relaytest.Decision("auto-1", "s1", "o9", wire.KindReadySoon)); err != nil {
		t.Fatal(err)
	}
	if !relaytest.WaitFor(10*time.Second, func() bool { return len(riders.Get("auto-1")) == 1 }) {
		t.Fatal("auto-assigned decision not delivered")
	}
	if r := riders.Get("auto-1")[0].Rider; !strings.HasPrefix(r, "rider-") {
		t.Fatalf("rider %q", r)
	}
	base := "http://" + m.HTTPAddr()
	for path, want := range map[string]int{"/healthz": 200, "/metrics": 200, "/v1/stores/s1/orders/o9": 200, "/v1/stores/s1/orders/nope": 404} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("GET %s = %d, want %d", path, resp.StatusCode, want)
		}
	}
}
