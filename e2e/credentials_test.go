package e2e_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/passline/passline/cloud/natsauth"
	"github.com/passline/passline/wire"
)

// TestBumpReachesRiderWithCredentials runs the system against an
// operator-mode nats-server where every program has its own minted
// credentials: the relay, the store's agent, the platform (relay creds)
// and a rider gateway. A bump still reaches the rider.
func TestBumpReachesRiderWithCredentials(t *testing.T) {
	tr, err := natsauth.NewTrust("e2e")
	if err != nil {
		t.Fatal(err)
	}
	opts := &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(), NoSigs: true, NoLog: true}
	if err := tr.Configure(opts); err != nil {
		t.Fatal(err)
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("nats not ready")
	}
	t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	iss, _ := tr.Issuer()
	dir := t.TempDir()
	write := func(name string, b []byte, err error) string {
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	store := uniqueID("e2e")
	b, err := iss.MintRelay("r1")
	relayCreds := write("relay.creds", b, err)
	b, err = iss.MintStore(store)
	storeCreds := write("store.creds", b, err)
	b, err = iss.MintRiderGateway("g1")
	gwCreds := write("gw.creds", b, err)

	cc := cloudConfig(t, ns.ClientURL())
	cc.NATS.Creds = relayCreds
	startCloud(t, cc)
	ac := agentConfig(t, store, "", ns.ClientURL())
	ac.NATS.Creds = storeCreds
	agent := startAgent(t, ac)

	gw, err := nats.Connect(ns.ClientURL(), nats.UserCredentials(gwCreds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gw.Close)
	platform, err := nats.Connect(ns.ClientURL(), nats.UserCredentials(relayCreds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(platform.Close)

	order, rider := "o-"+uniqueID("")[:8], uniqueID("rider")
	notes := make(chan *nats.Msg, 16)
	if _, err := gw.ChanSubscribe(wire.RiderFilter(rider), notes); err != nil {
		t.Fatal(err)
	}
	if err := gw.Flush(); err != nil {
		t.Fatal(err)
	}
	assign, _ := wire.Assignment{Store: store, OrderID: order, Rider: rider, At: time.Now()}.Marshal()
	if err := platform.Publish(wire.AssignSubject(store), assign); err != nil {
		t.Fatal(err)
	}
	if err := platform.Flush(); err != nil {
		t.Fatal(err)
	}

	pub := mqttClient(t, agent.MQTTURL())
	now := time.Now().UTC()
	publishTicket(t, pub, store, order, now)
	publishBump(t, pub, store, order, now.Add(90*time.Second))
	deadline := time.After(20 * time.Second)
	for {
		select {
		case m := <-notes:
			n, err := wire.DecodeNotification(m.Data)
			if err != nil || n.Kind != wire.KindReady {
				continue
			}
			if n.OrderID != order || n.Rider != rider {
				t.Fatalf("notification %+v", n)
			}
			t.Logf("rider got: %s", n.Text)
			return
		case <-deadline:
			st, err := agent.Status()
			t.Fatalf("no ready notification within 20s; agent status %+v (%v)", st, err)
		}
	}
}
