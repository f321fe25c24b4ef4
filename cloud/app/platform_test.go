package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/cloud/app"
	"github.com/passline/passline/cloud/breaker"
	"github.com/passline/passline/cloud/config"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/cloud/platform/platformtest"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/wire"
)

// platformRelay runs the relay program with the platform gateway on (fast
// platform retries, the loopback fakes allowed past the egress guard),
// tune applied to its config, and connects store s1 with cred; it returns
// the program and its platform buckets.
func platformRelay(t *testing.T, cred platform.Credentials, tune func(*config.Config)) (*app.Main, *natsjs.PlatformBuckets) {
	t.Helper()
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))
	cfg := relaytest.Config(t.TempDir())
	cfg.Platform.SealKey = key
	cfg.Egress.Allow = []string{"127.0.0.1"}
	cfg.Platform.Retry = breaker.Retry{Attempts: 2, Initial: 20 * time.Millisecond}
	if tune != nil {
		tune(&cfg)
	}
	m := relaytest.MustRun(t, cfg)
	ctx := context.Background()
	b, err := natsjs.SetupPlatform(ctx, m.JetStream(), 1)
	if err != nil {
		t.Fatal(err)
	}
	sealer, _ := platform.NewSealer(key)
	if err := (natsjs.PlatformCredentials{KV: b.Creds, Sealer: sealer}).Put(ctx, "s1", cred); err != nil {
		t.Fatal(err)
	}
	return m, b
}

// TestPlatformDeliverooThroughRelay runs the whole path in the relay
// program: Deliveroo's signed order webhooks arrive on the relay's HTTP
// listener and link the order; with no rider assigned yet, a bumped order
// reaches the Deliveroo fake as ready_for_collection and the rider hears
// nothing; the rider webhook then assigns the rider, who gets both
// decisions, while Deliveroo still has the bump exactly once and never the
// predicted ready_soon.
func TestPlatformDeliverooThroughRelay(t *testing.T) {
	fake := platformtest.Deliveroo(t, "cid", "csecret", "tok")
	m, _ := platformRelay(t, platform.Credentials{Platform: platform.Deliveroo, PlatformStoreID: "4163", BaseURL: fake.URL(),
		TokenURL: fake.URL() + "/oauth2/token", ClientID: "cid", ClientSecret: "csecret", WebhookSecret: "whs"}, nil)
	ctx := context.Background()
	nc, js := relaytest.Connect(t, m.NATSURL())
	riders := relaytest.Subscribe(t, nc)
	hook := func(i int, name string) {
		t.Helper()
		body := platformtest.Fixture(t, "../platform/testdata/deliveroo/"+name+".json")
		req, _ := http.NewRequest(http.MethodPost, "http://"+m.HTTPAddr()+"/v1/platforms/deliveroo/webhooks/s1", bytes.NewReader(body))
		guid := "g" + strconv.Itoa(i)
		req.Header.Set(platform.DeliverooHeaderGUID, guid)
		req.Header.Set(platform.DeliverooHeaderHMAC, platform.DeliverooSign("whs", guid, body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d", name, resp.StatusCode)
		}
	}
	hook(0, "order_new")
	hook(1, "order_accepted")
	soon := relaytest.Decision("p-soon", "s1", "6206", wire.KindReadySoon) // a prediction: no event id
	ready := relaytest.Decision("p-ready", "s1", "6206", wire.KindReady)   // a bump
	for _, d := range []wire.Decision{soon, ready} {
		if err := relaytest.Publish(ctx, js, d); err != nil {
			t.Fatal(err)
		}
	}
	if !relaytest.WaitFor(10*time.Second, func() bool { return fake.PerKey()["p-ready"] > 0 }) {
		t.Fatal("Deliveroo did not hear of the bump before a rider was assigned")
	}
	if n := len(riders.Get("p-soon")) + len(riders.Get("p-ready")); n != 0 {
		t.Fatalf("%d rider notifications before a rider was assigned", n)
	}
	hook(2, "rider_assigned")
	if !relaytest.WaitFor(20*time.Second, func() bool { return len(riders.Get("p-soon")) > 0 && len(riders.Get("p-ready")) > 0 }) {
		t.Fatal("rider did not get both notifications once assigned")
	}
	time.Sleep(200 * time.Millisecond) // let a wrong second call arrive
	calls, refused := fake.Snapshot()
	if len(refused) > 0 || len(calls) != 1 || calls[0].Key != "p-ready" || calls[0].Body["stage"] != "ready_for_collection" {
		t.Fatalf("Deliveroo got %+v (refused %v), want only p-ready as ready_for_collection", calls, refused)
	}
	if _, _, dups := fake.Counts(); dups != 0 {
		t.Errorf("Deliveroo was called again with a key it had applied (%d repeats): the release redelivered it", dups)
	}
}

// TestPlatformOpenDeliveryTrackingAssignsThroughRelay: a bump published
// before Open Delivery has linked the order waits (the platform cannot be
// told of an order it has not linked); the signed Tracking Event, posted
// below the store's webhook URL as the platform does
// ({webhook}/v1/newLogisticEvent), links the order by its display id and
// assigns the courier; the bump then reaches the courier and the
// platform's readyForPickup, once.
func TestPlatformOpenDeliveryTrackingAssignsThroughRelay(t *testing.T) {
	fake := platformtest.OpenDelivery(t, "odcid", "od-secret", "odtok")
	m, _ := platformRelay(t, platform.Credentials{Platform: platform.OpenDelivery,
		PlatformStoreID: "m-1", BaseURL: fake.URL(), ClientID: "odcid", ClientSecret: "od-secret"}, nil)
	ctx := context.Background()
	nc, js := relaytest.Connect(t, m.NATSURL())
	riders := relaytest.Subscribe(t, nc)
	if err := relaytest.Publish(ctx, js, relaytest.Decision("od-ready", "s1", "K5", wire.KindReady)); err != nil {
		t.Fatal(err)
	}
	body := platformtest.Fixture(t, "../platform/testdata/opendelivery/logistic_pickup_ongoing.json")
	req, _ := http.NewRequest(http.MethodPost, "http://"+m.HTTPAddr()+"/v1/platforms/opendelivery/webhooks/s1/v1/newLogisticEvent", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(platform.OpenDeliveryHeaderMerchant, "m-1")
	req.Header.Set(platform.OpenDeliveryHeaderSignature, platform.OpenDeliveryHookSign("od-secret", body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("tracking event: status %d", resp.StatusCode)
	}
	if !relaytest.WaitFor(20*time.Second, func() bool { return len(riders.Get("od-ready")) > 0 }) {
		t.Fatal("the courier Open Delivery assigned did not get the waiting ready")
	}
	if n := riders.Get("od-ready")[0]; !strings.HasPrefix(n.Rider, "opendelivery-") {
		t.Errorf("ready went to rider %q, want the Open Delivery courier", n.Rider)
	}
	if !relaytest.WaitFor(10*time.Second, func() bool { return fake.PerKey()["od-ready"] == 1 }) {
		calls, refused := fake.Snapshot()
		t.Fatalf("Open Delivery got %+v (refused %v), want od-ready once", calls, refused)
	}
	time.Sleep(200 * time.Millisecond) // let a wrong repeat arrive
	if calls, _ := fake.Snapshot(); len(calls) != 1 {
		t.Errorf("Open Delivery got %d calls, want 1", len(calls))
	}
}
