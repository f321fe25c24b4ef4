//go:build integration

package natsauth_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/natsauth"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/wire"
)

// TestRelayRunsWithMintedCredentials runs the real relay (cloud/app) with
// relay credentials against an operator-mode server: a store publishes
// with its own credentials, the platform assigns, and a rider gateway
// receives the notification. Run: go test -tags integration ./cloud/natsauth/
func TestRelayRunsWithMintedCredentials(t *testing.T) {
	tr, err := natsauth.NewTrust("integration")
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, tr)
	iss, _ := tr.Issuer()
	relayCreds, err := iss.MintRelay("r1")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "relay.creds")
	if err := os.WriteFile(path, relayCreds, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := relaytest.Config(t.TempDir())
	cfg.NATS.Embedded.Enabled = false
	cfg.NATS.URL, cfg.NATS.Creds = s.ClientURL(), path
	relaytest.MustRun(t, cfg)

	gwCreds, _ := iss.MintRiderGateway("g1")
	gw, _ := connect(t, s, gwCreds)
	sub, err := gw.SubscribeSync(wire.RiderWildcard)
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Flush(); err != nil {
		t.Fatal(err)
	}

	storeCreds, _ := iss.MintStore("store-1")
	snc, _ := connect(t, s, storeCreds, nats.CustomInboxPrefix(wire.StoreInboxPrefix("store-1")))
	sjs, _ := jetstream.New(snc)
	b, err := relaytest.Decision("dec-1", "store-1", "order-1", wire.KindReady).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := sjs.Publish(ctx, wire.DecisionSubject("store-1"), b); err != nil {
		t.Fatalf("store publishes its decision: %v", err)
	}
	platform, _ := connect(t, s, relayCreds)
	if err := relaytest.Assign(platform, "store-1", "order-1", "rider-7"); err != nil {
		t.Fatal(err)
	}
	msg, err := sub.NextMsg(15 * time.Second)
	if err != nil {
		t.Fatalf("rider gateway got no notification: %v", err)
	}
	n, err := wire.DecodeNotification(msg.Data)
	if err != nil || n.Rider != "rider-7" || n.OrderID != "order-1" {
		t.Fatalf("notification %+v, %v", n, err)
	}
}
