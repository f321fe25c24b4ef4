package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/natsauth"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/wire"
)

// TestEmbeddedNATSWithTrustRequiresCredentials: with nats.embedded.trust
// the embedded server refuses anonymous clients (who could otherwise
// publish forged decisions or read KV PASSLINE_CLIENTS), while the relay,
// with credentials it mints itself, and a store with its own credentials
// work end to end.
func TestEmbeddedNATSWithTrustRequiresCredentials(t *testing.T) {
	dir := t.TempDir()
	trustPath := filepath.Join(dir, "nats-trust.json")
	tr, err := natsauth.InitTrust(trustPath, "test")
	if err != nil {
		t.Fatal(err)
	}
	cfg := relaytest.Config(dir)
	cfg.NATS.Embedded.Trust = trustPath
	m := relaytest.MustRun(t, cfg)

	if nc, err := nats.Connect(m.NATSURL(), nats.Timeout(3*time.Second)); err == nil {
		nc.Close()
		t.Fatal("an anonymous client connected to the embedded server")
	}

	iss, _ := tr.Issuer()
	connect := func(mint func() ([]byte, error), opts ...nats.Option) *nats.Conn {
		creds, err := mint()
		if err != nil {
			t.Fatal(err)
		}
		auth, err := natsauth.UserOption(creds)
		if err != nil {
			t.Fatal(err)
		}
		nc, err := nats.Connect(m.NATSURL(), append(opts, auth)...)
		if err != nil {
			t.Fatalf("connect with credentials: %v", err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	gw := connect(func() ([]byte, error) { return iss.MintRiderGateway("g1") })
	sub, err := gw.SubscribeSync(wire.RiderWildcard)
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Flush(); err != nil {
		t.Fatal(err)
	}
	store := connect(func() ([]byte, error) { return iss.MintStore("s1") }, nats.CustomInboxPrefix(wire.StoreInboxPrefix("s1")))
	js, _ := jetstream.New(store)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := relaytest.Publish(ctx, js, relaytest.Decision("d-1", "s1", "o-1", wire.KindReady)); err != nil {
		t.Fatalf("store publishes its decision: %v", err)
	}
	platform := connect(func() ([]byte, error) { return iss.MintRelay("platform") })
	if err := relaytest.Assign(platform, "s1", "o-1", "rider-1"); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.NextMsg(15 * time.Second)
	if err != nil {
		t.Fatalf("no rider notification through the authenticated embedded server: %v", err)
	}
	if n, err := wire.DecodeNotification(msg.Data); err != nil || n.OrderID != "o-1" {
		t.Fatalf("notification %+v, %v", n, err)
	}
	// The ops page sees the store through the relay's own credentials.
	resp, err := http.Get("http://" + m.HTTPAddr() + "/ops/summary.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var sum struct {
		StoresOnline int `json:"stores_online"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&sum); err != nil || sum.StoresOnline != 1 {
		t.Fatalf("ops summary: %d stores online, %v; want s1", sum.StoresOnline, err)
	}
}
