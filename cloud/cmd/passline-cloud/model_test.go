package main

import (
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/agent/predict"
	"github.com/passline/passline/cloud/natsauth"
	"github.com/passline/passline/cloud/natsd/natsdtest"
	"github.com/passline/passline/history"
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

// TestModelFitFromStream: the ready decisions agents sync to DECISIONS,
// with their order facts, fit the same fleet prior as the history they
// came from. Other kinds, a ready without facts and a second ready of a
// re-bumped order are left out.
func TestModelFitFromStream(t *testing.T) {
	h, err := history.ReadFile("../../../agent/testdata/sparse-marketplace.csv.gz", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	rows := h.Rows[:6000]
	s := natsdtest.Server(t, nil)
	_, js := natsdtest.Connect(t, s.ClientURL())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: wire.StreamDecisions, Subjects: []string{wire.SubjectDecisions}}); err != nil {
		t.Fatal(err)
	}
	publish := func(d wire.Decision) {
		t.Helper()
		b, err := d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.PublishAsync(wire.DecisionSubject(d.Store), b); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range rows {
		ready := wire.Decision{ID: r.Store + "." + r.OrderID + ".ready.1", Store: r.Store, OrderID: r.OrderID, Kind: wire.KindReady,
			EventID: "e" + r.OrderID, CreatedAt: r.ReadyAt, ExpiresAt: r.ReadyAt.Add(time.Hour), AcceptedAt: r.AcceptedAt, Probability: 1,
			Order: &wire.OrderFacts{Items: r.Items, Subtotal: r.Subtotal, Category: r.Category}}
		publish(ready)
		if i%100 == 0 { // a countdown, a ready without facts, a second ready after a recall
			eta := ready
			eta.ID, eta.Kind, eta.EventID, eta.CreatedAt, eta.Order = r.Store+"."+r.OrderID+".eta.1", wire.KindETA, "", r.AcceptedAt, nil
			publish(eta)
			bare := ready
			bare.ID, bare.OrderID, bare.Order = "x"+ready.ID, "x"+r.OrderID, nil
			publish(bare)
			again := ready
			again.ID, again.CreatedAt, again.ExpiresAt = r.Store+"."+r.OrderID+".ready.2", r.ReadyAt.Add(5*time.Minute), r.ReadyAt.Add(2*time.Hour)
			publish(again)
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		t.Fatal("publish did not complete")
	}
	out := filepath.Join(t.TempDir(), "prior.json")
	if o, err := cli(t, "model", "fit", "--from-stream", "--nats", s.ClientURL(), "--out", out); err != nil {
		t.Fatalf("model fit --from-stream: %v\n%s", err, o)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := predict.ReadFleet(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	want, err := predict.FitHistory(rows)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) < 5 {
		t.Fatalf("%d priors from the stream, %d from the history", len(got), len(want))
	}
	for c, w := range want {
		g := got[c]
		if g == nil || g.Orders != w.Orders || g.Stores != w.Stores || !near(g.Sigma, w.Sigma) || !near(g.Tau, w.Tau) {
			t.Fatalf("prior %q from the stream %+v, from the history %+v", c, g, w)
		}
		for k := range w.Beta {
			if !near(g.Beta[k], w.Beta[k]) {
				t.Errorf("prior %q beta %d: %v from the stream, %v from the history", c, k, g.Beta[k], w.Beta[k])
			}
		}
	}
	if _, err := cli(t, "model", "fit", "--from-stream", "--history", "x.csv"); err == nil {
		t.Error("both --from-stream and --history accepted")
	}
}

// near is equality up to summation order.
func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*(1+math.Abs(b)) }
