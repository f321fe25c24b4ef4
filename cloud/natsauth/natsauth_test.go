package natsauth_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/natsauth"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/wire"
)

func TestStorePublishesOnlyItsOwnDecisions(t *testing.T) {
	t.Parallel()
	f := setup(t)
	js, _, e := f.storeConn(t, "A")
	ack, err := js.Publish(shortCtx(t), wire.DecisionSubject("A"), []byte(`{"own":true}`))
	if err != nil {
		t.Fatalf("store A publishing its own decision: %v", err)
	}
	if ack.Stream != wire.StreamDecisions {
		t.Fatalf("ack from stream %q", ack.Stream)
	}
	// The agent's uplink publishes asynchronously; its acks come on the inbox prefix too.
	fut, err := js.PublishAsync(wire.DecisionSubject("A"), []byte(`{"async":true}`))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-fut.Ok():
	case err := <-fut.Err():
		t.Fatalf("async publish: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("no async ack")
	}
	if _, err := js.Publish(shortCtx(t), wire.DecisionSubject("B"), []byte(`{"forged":true}`)); err == nil {
		t.Fatal("store A published as store B and got an ack")
	}
	e.waitFor(t, "Permissions Violation for Publish to \"passline.B.decision\"")
	if err := js.Conn().Publish(wire.AssignSubject("A"), []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "Permissions Violation for Publish to \"passline.A.assign\"")

	st, err := f.relay.Stream(context.Background(), wire.StreamDecisions)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background(), jetstream.WithSubjectFilter(wire.SubjectDecisions))
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Subjects["passline.B.decision"] != 0 || info.State.Subjects["passline.A.decision"] != 2 {
		t.Fatalf("stream subjects = %v, want only A's two decisions", info.State.Subjects)
	}
}

func TestStoreReadsOnlyItsOwnConfig(t *testing.T) {
	t.Parallel()
	f := setup(t)
	js, _, e := f.storeConn(t, "A")
	kv, err := js.KeyValue(shortCtx(t), wire.BucketConfig)
	if err != nil {
		t.Fatalf("store A opens config bucket: %v", err)
	}
	got, err := kv.Get(shortCtx(t), "A")
	if err != nil || string(got.Value()) != "config of A" {
		t.Fatalf("store A reads own config: %v %v", got, err)
	}
	if got, err := kv.Get(shortCtx(t), "B"); err == nil {
		t.Fatalf("store A read store B's config: %q", got.Value())
	}
	e.waitFor(t, "Permissions Violation for Publish to \"$JS.API.DIRECT.GET.KV_PASSLINE_CONFIG.$KV.PASSLINE_CONFIG.B\"")

	w, err := kv.Watch(shortCtx(t), "A")
	if err != nil {
		t.Fatalf("store A watches own config: %v", err)
	}
	defer w.Stop()
	select {
	case entry := <-w.Updates():
		if entry == nil || string(entry.Value()) != "config of A" {
			t.Fatalf("watch of A delivered %v", entry)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("watch of own key delivered nothing")
	}
	if _, err := kv.Watch(shortCtx(t), "B"); err == nil {
		t.Fatal("store A watches store B's config")
	}
	if _, err := kv.Put(shortCtx(t), "A", []byte("self-service")); err == nil {
		t.Fatal("store A wrote its own config; only the API may")
	}
	if err := kv.Delete(deniedCtx(t), "B"); err == nil {
		t.Fatal("store A deleted store B's config")
	}
	if err := kv.Purge(deniedCtx(t), "A"); err == nil {
		t.Fatal("store A purged its own config; only the API may")
	}
	if got, err := f.relay.KeyValue(shortCtx(t), wire.BucketConfig); err != nil {
		t.Fatal(err)
	} else if e, err := got.Get(shortCtx(t), "B"); err != nil || string(e.Value()) != "config of B" {
		t.Fatalf("store B's config after A's attempts: %v %v", e, err)
	}
}

func TestStoreWritesOnlyItsOwnStatus(t *testing.T) {
	t.Parallel()
	f := setup(t)
	js, _, _ := f.storeConn(t, "A")
	kv, err := js.KeyValue(shortCtx(t), natsauth.BucketConfigStatus)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kv.Put(shortCtx(t), "A", []byte(`{"applied":true}`)); err != nil {
		t.Fatalf("store A reports its status: %v", err)
	}
	if _, err := kv.Put(shortCtx(t), "B", []byte(`{"applied":false}`)); err == nil {
		t.Fatal("store A wrote store B's status")
	}
	// Statuses are for the API to read; a store reads none, not even B's.
	if got, err := kv.Get(deniedCtx(t), "B"); err == nil {
		t.Fatalf("store A read a status: %q", got.Value())
	}
	if _, err := kv.Watch(deniedCtx(t), "B"); err == nil {
		t.Fatal("store A watches store B's status")
	}
}

func TestStoreCannotManageStreamsOrOverhear(t *testing.T) {
	t.Parallel()
	f := setup(t)
	js, nc, e := f.storeConn(t, "A")
	if err := js.DeleteStream(shortCtx(t), wire.StreamDecisions); err == nil {
		t.Fatal("store deleted DECISIONS")
	}
	if _, err := js.CreateStream(shortCtx(t), jetstream.StreamConfig{Name: "SNOOP", Subjects: []string{"passline.>"}}); err == nil {
		t.Fatal("store created a stream over every store's subjects")
	}
	for _, subj := range []string{"_INBOX.>", "passline.B.>", wire.RiderWildcard, "_PASSLINE_INBOX.B.>"} {
		if _, err := nc.SubscribeSync(subj); err != nil {
			t.Fatal(err)
		}
		e.waitFor(t, "Permissions Violation for Subscription to \""+subj+"\"")
	}
}

func TestRiderGatewayOnlySubscribesToRiders(t *testing.T) {
	t.Parallel()
	f := setup(t)
	creds, err := f.issuer.MintRiderGateway("g1")
	if err != nil {
		t.Fatal(err)
	}
	gw, e := connect(t, f.srv, creds)
	sub, err := gw.SubscribeSync(wire.RiderWildcard)
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Flush(); err != nil {
		t.Fatal(err)
	}
	relayCreds, _ := f.issuer.MintRelay("r2")
	relay, _ := connect(t, f.srv, relayCreds)
	if err := relay.Publish(wire.RiderSubject("X", "k1"), []byte("ready")); err != nil {
		t.Fatal(err)
	}
	if m, err := sub.NextMsg(5 * time.Second); err != nil || string(m.Data) != "ready" {
		t.Fatalf("gateway did not get the rider notification: %v", err)
	}
	if err := gw.Publish(wire.RiderSubject("X", "k2"), []byte("spoof")); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "Permissions Violation for Publish")
	if _, err := gw.SubscribeSync("passline.A.decision"); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "Permissions Violation for Subscription to \"passline.A.decision\"")
}

func TestRelayPublishesItsSubjects(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	for name, subj := range map[string]string{"OUTBOX": "passline.outbox.0.*.*", "DLQ": "passline.dlq.*.decision", "RESEND": natsjs.SubjectResend} {
		if _, err := f.relay.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subj}}); err != nil {
			t.Fatal(err)
		}
	}
	// The relay re-publishes decisions that waited for their rider.
	for _, subj := range []string{"passline.outbox.0.r1.d1", "passline.dlq.A.decision", natsjs.ResendSubject("A"), wire.DecisionSubject("A")} {
		if _, err := f.relay.Publish(shortCtx(t), subj, []byte("x")); err != nil {
			t.Fatalf("relay publishes %s: %v", subj, err)
		}
	}
}

func TestMintStoreRefusesBadNames(t *testing.T) {
	t.Parallel()
	tr, err := natsauth.NewTrust("t")
	if err != nil {
		t.Fatal(err)
	}
	iss, _ := tr.Issuer()
	for _, bad := range []string{"", "a.b", "*", ">", "a b", strings.Repeat("x", 65), "rider", "dlq", "outbox", "resend", "decision", "Rider"} {
		if _, err := iss.MintStore(bad); err == nil {
			t.Errorf("MintStore(%q) accepted", bad)
		}
	}
}

func TestTrustSaveLoad(t *testing.T) {
	t.Parallel()
	tr, err := natsauth.NewTrust("t")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "trust.json")
	if err := tr.Save(path); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(path)
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("trust file mode %v", fi.Mode())
	}
	got, err := natsauth.LoadTrust(path)
	if err != nil {
		t.Fatal(err)
	}
	if *got != *tr {
		t.Fatal("loaded trust differs")
	}
	other, _ := natsauth.NewTrust("u")
	got.AccountSeed = other.AccountSeed
	_ = got.Save(path)
	if _, err := natsauth.LoadTrust(path); err == nil || !strings.Contains(err.Error(), "account_seed") {
		t.Fatalf("mismatched seed accepted: %v", err)
	}
	if !strings.Contains(tr.ServerConfig(), "resolver_preload") {
		t.Fatal("server config lacks resolver_preload")
	}
	if _, err := natsauth.NewIssuer([]byte(other.AccountSeed), tr.AccountPub); err == nil {
		t.Fatal("issuer accepted a seed of another account")
	}
}

func TestInitTrustAndAddStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	trustPath, credsPath := filepath.Join(dir, "trust.json"), filepath.Join(dir, "s1.creds")
	tr, err := natsauth.InitTrust(trustPath, "passline")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := natsauth.InitTrust(trustPath, "passline"); err == nil {
		t.Fatal("InitTrust replaced an existing trust")
	}
	if err := natsauth.AddStore(trustPath, "s1", credsPath); err != nil {
		t.Fatal(err)
	}
	if err := natsauth.AddStore(trustPath, "s1", credsPath); err == nil {
		t.Fatal("AddStore overwrote a creds file")
	}
	creds, err := os.ReadFile(credsPath)
	if err != nil {
		t.Fatal(err)
	}
	// The written file connects to a server trusting tr, as store s1.
	s := startServer(t, tr)
	nc, e := connect(t, s, creds, nats.CustomInboxPrefix(natsauth.InboxPrefix("s1")))
	if err := nc.Publish("passline.s2.decision", []byte("x")); err != nil {
		t.Fatal(err)
	}
	e.waitFor(t, "Permissions Violation for Publish to \"passline.s2.decision\"")
}

func TestForeignCredentialsRefused(t *testing.T) {
	t.Parallel()
	f := setup(t)
	other, _ := natsauth.NewTrust("other")
	iss, _ := other.Issuer()
	creds, _ := iss.MintStore("A")
	path := filepath.Join(t.TempDir(), "a.creds")
	if err := os.WriteFile(path, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(f.srv.ClientURL(), nats.UserCredentials(path))
	if err == nil {
		nc.Close()
		t.Fatal("credentials of another operator connected")
	}
	if nc, err := nats.Connect(f.srv.ClientURL()); err == nil {
		nc.Close()
		t.Fatal("anonymous connection accepted")
	}
}
