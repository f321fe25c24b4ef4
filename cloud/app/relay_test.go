package app_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/app"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/quota"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/wire"
)

type failing struct{}

func (failing) Name() string { return "webhook" }
func (failing) Deliver(context.Context, wire.Notification) error {
	return errors.New("endpoint answers 500")
}

// dlqMessages reads every message in DECISIONS_DLQ.
func dlqMessages(t *testing.T, js jetstream.JetStream) []*jetstream.RawStreamMsg {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, natsjs.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []*jetstream.RawStreamMsg
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		if m, err := s.GetMsg(ctx, seq); err == nil {
			out = append(out, m)
		}
	}
	return out
}

func TestBadDecisionsAndGiveUpsGoToDLQ(t *testing.T) {
	cfg := relaytest.Config(t.TempDir())
	cfg.Consumer.MaxDeliver = 3
	m := relaytest.MustRunWith(t, cfg, func(m *app.Main) { m.Channels = []cloud.Channel{failing{}} })
	nc, js := relaytest.Connect(t, m.NATSURL())
	riders := relaytest.Subscribe(t, nc)
	ctx := context.Background()

	if _, err := js.Publish(ctx, wire.DecisionSubject("s1"), []byte(`{"v":1,"id":"bad","kind":"nope"}`)); err != nil {
		t.Fatal(err)
	}
	if err := relaytest.Assign(nc, "s1", "o1", "r1"); err != nil {
		t.Fatal(err)
	}
	if err := relaytest.Publish(ctx, js, relaytest.Decision("gives-up", "s1", "o1", wire.KindReady)); err != nil {
		t.Fatal(err)
	}
	var dlq []*jetstream.RawStreamMsg
	if !relaytest.WaitFor(20*time.Second, func() bool { dlq = dlqMessages(t, js); return len(dlq) == 2 }) {
		t.Fatalf("DLQ holds %d messages, want 2", len(dlq))
	}
	reasons := dlq[0].Header.Get(natsjs.HeaderDLQReason) + " | " + dlq[1].Header.Get(natsjs.HeaderDLQReason)
	if !strings.Contains(reasons, "invalid") || !strings.Contains(reasons, "gave up after 3 deliveries") || !strings.Contains(reasons, "endpoint answers 500") {
		t.Fatalf("DLQ reasons: %s", reasons)
	}
	// The rider channel delivered once although the webhook failed three times.
	if got := riders.Get("gives-up"); len(got) != 1 {
		t.Fatalf("rider got %d notifications", len(got))
	}
	if v := relaytest.Metric(t, m.Registry, "passline_relay_deliveries_total", map[string]string{"channel": "webhook", "outcome": "error"}); v != 3 {
		t.Fatalf("webhook errors counted %v, want 3", v)
	}
	if !relaytest.WaitFor(15*time.Second, func() bool {
		return relaytest.Metric(t, m.Registry, "passline_relay_dlq_depth", nil) == 2
	}) {
		t.Fatal("DLQ depth metric did not reach 2")
	}
}

// The same decision published again after JetStream's duplicate window is
// stored again, and the relay's own marks keep it from the rider.
func TestIdempotentAfterDuplicateWindow(t *testing.T) {
	cfg := relaytest.Config(t.TempDir())
	cfg.Stream.DuplicateWindow = time.Second
	cfg.Relay.OutboxDuplicate = time.Second
	m := relaytest.MustRun(t, cfg)
	nc, js := relaytest.Connect(t, m.NATSURL())
	riders := relaytest.Subscribe(t, nc)
	ctx := context.Background()
	if err := relaytest.Assign(nc, "s1", "o1", "r1"); err != nil {
		t.Fatal(err)
	}
	d := relaytest.Decision("once", "s1", "o1", wire.KindReady)
	if err := relaytest.Publish(ctx, js, d); err != nil {
		t.Fatal(err)
	}
	if !relaytest.WaitFor(10*time.Second, func() bool { return len(riders.Get("once")) == 1 }) {
		t.Fatal("first delivery missing")
	}
	time.Sleep(2500 * time.Millisecond) // past both dedupe windows
	b, _ := d.Marshal()
	ack, err := js.Publish(ctx, wire.DecisionSubject("s1"), b, jetstream.WithMsgID(d.ID))
	if err != nil || ack.Duplicate {
		t.Fatalf("republish after the window: ack %+v err %v (the stream should store it again)", ack, err)
	}
	if !relaytest.WaitFor(10*time.Second, func() bool {
		return relaytest.Metric(t, m.Registry, "passline_relay_decisions_total", map[string]string{"result": "duplicate"}) == 1
	}) {
		t.Fatal("relay did not see the republished decision as a duplicate")
	}
	time.Sleep(300 * time.Millisecond)
	if got := riders.Get("once"); len(got) != 1 {
		t.Fatalf("rider got %d notifications for one decision", len(got))
	}
}

func httpDo(t *testing.T, method, url, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestTemplateChangePropagation uploads a merchant template and measures how
// long until a delivered message uses it; a bad upload is refused with its
// line and the live version stays.
func TestTemplateChangePropagation(t *testing.T) {
	m := relaytest.MustRun(t, relaytest.Config(t.TempDir()))
	nc, js := relaytest.Connect(t, m.NATSURL())
	riders := relaytest.Subscribe(t, nc)
	base := "http://" + m.HTTPAddr()
	ctx := context.Background()

	code, body := httpDo(t, "POST", base+"/v1/assignments", `{"v":1,"store":"s1","order_id":"o1","rider":"r1","locale":"en","at":"2026-11-24T10:00:00Z"}`)
	if code != http.StatusNoContent {
		t.Fatalf("POST assignment = %d %s", code, body)
	}
	code, body = httpDo(t, "PUT", base+"/v1/merchants/s1/templates/ready/en", "Bag {{.ShortCode}} v1")
	if code != 200 {
		t.Fatalf("PUT template = %d %s", code, body)
	}
	uploaded := time.Now()
	var took time.Duration
	for i := 0; took == 0 && time.Since(uploaded) < 10*time.Second; i++ {
		id := "tpl-" + string(rune('a'+i%26)) + time.Now().Format("150405.000000")
		if err := relaytest.Publish(ctx, js, relaytest.Decision(id, "s1", "o1", wire.KindReady)); err != nil {
			t.Fatal(err)
		}
		relaytest.WaitFor(2*time.Second, func() bool { return len(riders.Get(id)) == 1 })
		if got := riders.Get(id); len(got) == 1 && got[0].Text == "Bag #o1 v1" {
			took = time.Since(uploaded)
		}
	}
	if took == 0 {
		t.Fatal("template change never reached a delivered message")
	}
	t.Logf("template change propagation (upload answered → delivered message uses it): %s", took)

	code, body = httpDo(t, "PUT", base+"/v1/merchants/s1/templates/ready/en", "ok\n{{.ShortCode")
	if code != 400 || !strings.Contains(body, `template line 2`) {
		t.Fatalf("bad template = %d %s, want 400 naming line 2", code, body)
	}
	if err := relaytest.Publish(ctx, js, relaytest.Decision("tpl-after-bad", "s1", "o1", wire.KindReady)); err != nil {
		t.Fatal(err)
	}
	relaytest.WaitFor(5*time.Second, func() bool { return len(riders.Get("tpl-after-bad")) == 1 })
	if got := riders.Get("tpl-after-bad"); len(got) != 1 || got[0].Text != "Bag #o1 v1" {
		t.Fatalf("after a refused upload the live template changed: %+v", got)
	}
	code, body = httpDo(t, "GET", base+"/v1/stores/s1/orders/o1", "")
	if code != 200 || !strings.Contains(body, `"status":"ready"`) {
		t.Fatalf("GET order = %d %s", code, body)
	}
}

func TestWaitingDecisionExpires(t *testing.T) {
	m := relaytest.MustRun(t, relaytest.Config(t.TempDir()))
	_, js := relaytest.Connect(t, m.NATSURL())
	ctx := context.Background()
	d := relaytest.Decision("short", "s1", "o-none", wire.KindETA)
	d.ExpiresAt = d.CreatedAt.Add(500 * time.Millisecond)
	if err := relaytest.Publish(ctx, js, d); err != nil {
		t.Fatal(err)
	}
	if !relaytest.WaitFor(10*time.Second, func() bool {
		return relaytest.Metric(t, m.Registry, "passline_relay_decisions_total", map[string]string{"result": "waiting"}) == 1
	}) {
		t.Fatal("decision did not wait")
	}
	kv, err := js.KeyValue(ctx, natsjs.BucketPending)
	if err != nil {
		t.Fatal(err)
	}
	p := natsjs.Pending{KV: kv, JS: js}
	if n, err := p.Sweep(ctx, time.Now()); err != nil || n != 0 {
		t.Fatalf("sweep before expiry dropped %d, err %v", n, err)
	}
	if n, err := p.Sweep(ctx, time.Now().Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("sweep after expiry dropped %d, err %v", n, err)
	}
}

// TestTierLimitDropsOnlyNonCritical: with a tier of burst 2, the third
// ready_soon of a merchant is dropped and counted; ready always goes.
func TestTierLimitDropsOnlyNonCritical(t *testing.T) {
	cfg := relaytest.Config(t.TempDir())
	cfg.Limits.Tiers = map[string]quota.Tier{"standard": {PerMinute: 1, Burst: 2}}
	m := relaytest.MustRun(t, cfg)
	nc, js := relaytest.Connect(t, m.NATSURL())
	riders := relaytest.Subscribe(t, nc)
	ctx := context.Background()
	if err := relaytest.Assign(nc, "s1", "o1", "r1"); err != nil {
		t.Fatal(err)
	}
	for i, k := range []wire.DecisionKind{wire.KindReadySoon, wire.KindReadySoon, wire.KindReadySoon, wire.KindReady} {
		if err := relaytest.Publish(ctx, js, relaytest.Decision(fmt.Sprintf("t%d", i), "s1", "o1", k)); err != nil {
			t.Fatal(err)
		}
	}
	if !relaytest.WaitFor(10*time.Second, func() bool {
		return relaytest.Metric(t, m.Registry, "passline_relay_decisions_total", map[string]string{"result": "limited"}) == 1 &&
			len(riders.Get("t3")) == 1
	}) {
		t.Fatal("the third ready_soon was not limited, or ready did not go out")
	}
	time.Sleep(200 * time.Millisecond)
	// Workers run in parallel, so which ready_soon is dropped is not fixed.
	if sent := len(riders.Get("t0")) + len(riders.Get("t1")) + len(riders.Get("t2")); sent != 2 {
		t.Fatalf("%d ready_soon went out, want 2", sent)
	}
}

// TestConsumerRecreatedAfterDeletion: an operator deleting the durable
// consumer does not stop the relay.
func TestConsumerRecreatedAfterDeletion(t *testing.T) {
	cfg := relaytest.Config(t.TempDir())
	m := relaytest.MustRun(t, cfg)
	nc, js := relaytest.Connect(t, m.NATSURL())
	riders := relaytest.Subscribe(t, nc)
	ctx := context.Background()
	if err := relaytest.Assign(nc, "s1", "o1", "r1"); err != nil {
		t.Fatal(err)
	}
	if err := js.DeleteConsumer(ctx, wire.StreamDecisions, cfg.Consumer.Durable); err != nil {
		t.Fatal(err)
	}
	if err := relaytest.Publish(ctx, js, relaytest.Decision("after-delete", "s1", "o1", wire.KindReady)); err != nil {
		t.Fatal(err)
	}
	if !relaytest.WaitFor(20*time.Second, func() bool { return len(riders.Get("after-delete")) == 1 }) {
		t.Fatal("no delivery after the consumer was deleted")
	}
}

// TestStoreProfileShapesText: a store profile in PASSLINE_STORES (name,
// shelf, merchant) reaches the rendered text through the KV watch.
func TestStoreProfileShapesText(t *testing.T) {
	m := relaytest.MustRun(t, relaytest.Config(t.TempDir()))
	nc, js := relaytest.Connect(t, m.NATSURL())
	riders := relaytest.Subscribe(t, nc)
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, natsjs.BucketStores)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(ctx, "s1", []byte(`{"name":"Noodle Bar","shelf":"B2","merchant":"noodle-co","locale":"en"}`)); err != nil {
		t.Fatal(err)
	}
	tk, _ := js.KeyValue(ctx, natsjs.BucketTemplates)
	if _, err := tk.Put(ctx, "noodle-co.ready.en", []byte("{{.StoreName}}: bag {{.ShortCode}} on shelf {{.Shelf}}")); err != nil {
		t.Fatal(err)
	}
	if err := relaytest.Assign(nc, "s1", "o1", "r1"); err != nil {
		t.Fatal(err)
	}
	want := "Noodle Bar: bag #o1 on shelf B2"
	for i := 0; ; i++ {
		id := fmt.Sprintf("prof-%d", i)
		if err := relaytest.Publish(ctx, js, relaytest.Decision(id, "s1", "o1", wire.KindReady)); err != nil {
			t.Fatal(err)
		}
		relaytest.WaitFor(5*time.Second, func() bool { return len(riders.Get(id)) == 1 })
		got := riders.Get(id)
		if len(got) == 1 && got[0].Text == want && got[0].StoreName == "Noodle Bar" && got[0].Shelf == "B2" {
			return
		}
		if i == 20 {
			t.Fatalf("text never became %q: %+v", want, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
