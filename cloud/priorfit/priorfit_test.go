package priorfit_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/agent/predict"
	"github.com/passline/passline/cloud/natsd/natsdtest"
	"github.com/passline/passline/cloud/priorfit"
	"github.com/passline/passline/history"
	"github.com/passline/passline/wire"
)

// TestRefitterPublishesWhenPriorIsOld: with no prior published, a relay's
// Refitter fits one from the ready decisions in DECISIONS and publishes
// it; right after, a second check finds it fresh and leaves it; once it is
// older than the interval, the next check re-fits. Too few orders keep
// what is published.
func TestRefitterPublishesWhenPriorIsOld(t *testing.T) {
	_, js := natsdtest.JetStream(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: wire.StreamDecisions, Subjects: []string{wire.SubjectDecisions}}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	r := &priorfit.Refitter{JS: js, Replicas: 1, Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now },
		Config: priorfit.Config{RefitInterval: 24 * time.Hour, History: 10000 * time.Hour, MinOrders: 500}}
	if ok, err := r.Once(ctx); ok || !errors.Is(err, priorfit.ErrTooFewOrders) {
		t.Fatalf("empty stream: published %v, err %v; want ErrTooFewOrders", ok, err)
	}
	h, err := history.ReadFile("../../agent/testdata/sparse-marketplace.csv.gz", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range h.Rows[:3000] {
		d := wire.Decision{ID: row.Store + "." + row.OrderID + ".ready.1", Store: row.Store, OrderID: row.OrderID, Kind: wire.KindReady,
			EventID: "e", CreatedAt: row.ReadyAt, ExpiresAt: row.ReadyAt.Add(time.Hour), AcceptedAt: row.AcceptedAt, Probability: 1,
			Order: &wire.OrderFacts{Items: row.Items, Subtotal: row.Subtotal, Category: row.Category}}
		b, err := d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.PublishAsync(wire.DecisionSubject(d.Store), b); err != nil {
			t.Fatal(err)
		}
	}
	<-js.PublishAsyncComplete()
	if ok, err := r.Once(ctx); !ok || err != nil {
		t.Fatalf("first re-fit: published %v, err %v", ok, err)
	}
	kv, err := js.KeyValue(ctx, wire.BucketModelPrior)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, predict.DefaultCategory)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := predict.ParsePrior(e.Value()); err != nil || p.Orders < 2500 {
		t.Fatalf("published default prior: %+v, %v", p, err)
	}
	if ok, err := r.Once(ctx); ok || err != nil {
		t.Fatalf("prior just published: re-fitted %v (err %v), want it left", ok, err)
	}
	now = now.Add(25 * time.Hour)
	if ok, err := r.Once(ctx); !ok || err != nil {
		t.Fatalf("prior older than the interval: re-fitted %v, err %v", ok, err)
	}
	if e2, _ := kv.Get(ctx, predict.DefaultCategory); e2 == nil || e2.Revision() <= e.Revision() {
		t.Error("the re-fit did not publish a new revision")
	}
}

func TestConfigValidate(t *testing.T) {
	if err := priorfit.DefaultConfig().Validate("model"); err != nil {
		t.Errorf("default: %v", err)
	}
	for _, c := range []priorfit.Config{{RefitInterval: -1, History: time.Hour, MinOrders: 500},
		{RefitInterval: time.Second, History: time.Hour, MinOrders: 500}, {History: 0, MinOrders: 500}, {History: time.Hour, MinOrders: 3}} {
		if err := c.Validate("model"); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}
