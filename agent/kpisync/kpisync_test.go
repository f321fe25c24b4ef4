package kpisync_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/agent/kpisync"
	"github.com/passline/passline/wire"
)

func sec(v float64) *float64 { return &v }

// TestTodayFromTheCloudsHours: two of today's hours and one of yesterday's
// are in the bucket; Today sums today's only. Hour 09: rider waits 60 and
// 180 s; hour 10: 300 s and one order with no arrival. Mean (60+180+300)/3
// = 180 s over 3; avoidable (0+120)/2 = 60 s.
func TestTodayFromTheCloudsHours(t *testing.T) {
	srv := at.StartNATS(t, t.TempDir(), -1)
	nc, err := nats.Connect(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: wire.BucketKPIHours})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 4, 10, 30, 0, 0, time.UTC)
	put := func(store string, hour time.Time, orders map[string]wire.KPIOrder) {
		b, _ := json.Marshal(wire.KPIHour{Store: store, Start: hour, Orders: orders})
		if _, err := kv.Put(ctx, wire.KPIHourKey(store, hour), b); err != nil {
			t.Fatal(err)
		}
	}
	h9, h10 := now.Truncate(time.Hour).Add(-time.Hour), now.Truncate(time.Hour)
	put("s1", h9.Add(-24*time.Hour), map[string]wire.KPIOrder{"y": {Arrived: true, RiderWait: sec(999)}})
	put("s1", h9, map[string]wire.KPIOrder{"a": {Arrived: true, RiderWait: sec(60), AvoidableWait: sec(0)}, "b": {Arrived: true, RiderWait: sec(180)}})
	put("s1", h10, map[string]wire.KPIOrder{"c": {Arrived: true, RiderWait: sec(300), AvoidableWait: sec(120)}, "d": {}, "x": {Cancelled: true}})
	put("s2", h10, map[string]wire.KPIOrder{"z": {Arrived: true, RiderWait: sec(5)}})

	p := &kpisync.Poller{Conn: nc, Store: "s1", Every: 20 * time.Millisecond, Now: func() time.Time { return now }, Log: slog.New(slog.DiscardHandler)}
	if err := p.Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	deadline := time.Now().Add(10 * time.Second)
	for p.Today() == nil {
		if time.Now().After(deadline) {
			t.Fatal("nothing read")
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := p.Today()
	if got.Orders != 4 || got.Arrivals != 3 || got.RiderWaitN != 3 || got.RiderWaitS == nil || *got.RiderWaitS != 180 ||
		got.AvoidableWaitS == nil || *got.AvoidableWaitS != 60 || len(got.Hours) != 2 || *got.Hours[0].RiderWaitS != 120 || *got.Hours[1].RiderWaitS != 300 {
		b, _ := json.Marshal(got)
		t.Fatalf("today %s", b)
	}
}
