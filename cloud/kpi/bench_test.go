package kpi_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/passline/passline/cloud/kpi"
	"github.com/passline/passline/cloud/natsd/natsdtest"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/wire"
)

// BenchmarkKPIConsumer publishes b.N decisions (eta, then ready, for
// orders of 10 stores, 100 orders per store-hour) to DECISIONS and times
// the KPI consumer until it has recorded them all: the recorder's pace
// through a real embedded JetStream, one consumer, facts and hour writes
// each a compare-and-set; with one worker and with eight.
func BenchmarkKPIConsumer(b *testing.B) {
	for _, w := range []int{1, 8} {
		b.Run(fmt.Sprintf("workers=%d", w), func(b *testing.B) { benchKPIConsumer(b, w) })
	}
}

func benchKPIConsumer(b *testing.B, workers int) {
	ctx := context.Background()
	_, js := natsdtest.JetStream(b)
	if _, err := natsjs.Setup(ctx, js, natsjs.Options{Replicas: 1, DuplicateWindow: time.Minute, OutboxDuplicate: time.Minute}); err != nil {
		b.Fatal(err)
	}
	kb, err := natsjs.SetupKPI(ctx, js, 1)
	if err != nil {
		b.Fatal(err)
	}
	hour := time.Date(2026, 12, 4, 11, 0, 0, 0, time.UTC)
	for i := range b.N {
		store, order := fmt.Sprintf("s%d", i%10), fmt.Sprintf("o%d", i/2%1000)
		kind, at := wire.KindETA, hour.Add(time.Duration(i/2%1000)*3*time.Second)
		if i%2 == 1 {
			kind, at = wire.KindReady, at.Add(5*time.Minute)
		}
		d := wire.Decision{V: wire.Version, ID: fmt.Sprintf("%s.%s.%s", store, order, kind), Store: store, OrderID: order, Kind: kind,
			AcceptedAt: hour, CreatedAt: at, ExpiresAt: at.Add(time.Hour), ETA: &at}
		if kind == wire.KindReady {
			d.EventID = "bump-" + order
		}
		play(b, js, nil, step{d: &d}, "")
	}
	rec := &kpi.Recorder{Store: natsjs.KPIStore{FactsKV: kb.Facts, HoursKV: kb.Hours}}
	b.ResetTimer()
	c := &natsjs.KPIConsumer{JS: js, Streams: natsjs.DecisionStreams(1), Recorder: rec, Log: slog.New(slog.DiscardHandler), Workers: workers}
	if err := c.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	waitIdle(b, js)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
}
