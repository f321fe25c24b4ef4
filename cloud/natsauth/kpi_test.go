package natsauth_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/wire"
)

// TestStoreReadsOnlyItsOwnKPIHours: a box reads its own hourly KPIs (the
// pass board's rider wait) and not another store's, and cannot write them.
func TestStoreReadsOnlyItsOwnKPIHours(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	kv, err := f.relay.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: wire.BucketKPIHours})
	if err != nil {
		t.Fatal(err)
	}
	hour := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	for _, st := range []string{"A", "B"} {
		if _, err := kv.Put(ctx, wire.KPIHourKey(st, hour), []byte(`{"store":"`+st+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	js, _, e := f.storeConn(t, "A")
	own, err := js.KeyValue(shortCtx(t), wire.BucketKPIHours)
	if err != nil {
		t.Fatalf("store A opens the kpi bucket: %v", err)
	}
	if got, err := own.Get(shortCtx(t), wire.KPIHourKey("A", hour)); err != nil || string(got.Value()) != `{"store":"A"}` {
		t.Fatalf("store A reads its own hour: %v", err)
	}
	if got, err := own.Get(shortCtx(t), wire.KPIHourKey("B", hour)); err == nil {
		t.Fatalf("store A read store B's hour: %q", got.Value())
	}
	e.waitFor(t, "Permissions Violation for Publish to \"$JS.API.DIRECT.GET.KV_PASSLINE_KPI_HOURS.$KV.PASSLINE_KPI_HOURS.2026120409.B\"")
	if _, err := own.Put(deniedCtx(t), wire.KPIHourKey("A", hour), []byte("forged")); err == nil {
		t.Fatal("store A wrote its own kpis; only the cloud may")
	}
}
