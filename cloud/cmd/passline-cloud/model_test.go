package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/agent/predict"
	"github.com/passline/passline/cloud/natsauth"
	"github.com/passline/passline/wire"
)

// TestModelFitPublishesPriorsStoresCanWatch fits the fleet prior from the
// sparse marketplace, publishes it with relay credentials, and a store box
// with its minted credentials watches its category's prior (and reads the
// default) but cannot write one.
func TestModelFitPublishesPriorsStoresCanWatch(t *testing.T) {
	dir := t.TempDir()
	tr, err := natsauth.InitTrust(filepath.Join(dir, "trust.json"), "passline-test")
	if err != nil {
		t.Fatal(err)
	}
	s, relayPath := relayServer(t, tr, dir)
	storePath := filepath.Join(dir, "a.creds")
	if _, err := cli(t, "store", "add", "store-a", "-trust", filepath.Join(dir, "trust.json"), "-out", storePath); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, "model", "fit", "--history", "../../../agent/testdata/sparse-marketplace.csv.gz", "--publish",
		"--nats", s.ClientURL(), "--creds", relayPath, "--out", filepath.Join(dir, "prior.json"))
	if err != nil {
		t.Fatalf("model fit: %v\n%s", err, out)
	}
	if !strings.Contains(out, "burger\trevision") || !strings.Contains(out, "default\trevision") {
		t.Fatalf("model fit output %q does not list the burger and default priors", out)
	}

	nc, err := nats.Connect(s.ClientURL(), nats.UserCredentials(storePath), nats.CustomInboxPrefix(wire.StoreInboxPrefix("store-a")))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, wire.BucketModelPrior)
	if err != nil {
		t.Fatalf("store opens the prior bucket: %v", err)
	}
	w, err := kv.Watch(ctx, "burger")
	if err != nil {
		t.Fatalf("store watches its category: %v", err)
	}
	defer w.Stop()
	e := <-w.Updates()
	if e == nil {
		t.Fatal("no burger prior delivered to the watch")
	}
	p, err := predict.ParsePrior(e.Value())
	if err != nil || p.Category != "burger" || p.Stores < 50 {
		t.Fatalf("burger prior %+v: %v", p, err)
	}
	if _, err := kv.Get(ctx, predict.DefaultCategory); err != nil {
		t.Errorf("store reads the default prior: %v", err)
	}
	pctx, pcancel := context.WithTimeout(ctx, time.Second)
	defer pcancel()
	if _, err := kv.Put(pctx, "burger", []byte("{}")); err == nil {
		t.Error("a store box overwrote a fleet prior")
	}
}
