package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/passline/passline/firmware-bridge/bridgetest"
	"github.com/passline/passline/firmware-bridge/sim"
	"github.com/passline/passline/wire"
)

// The driver publishes each kitchen's events with the device kind that
// would publish them, marks the virtual devices online and, on Close,
// offline; several stores run side by side.
func TestDriverPublishesPerStore(t *testing.T) {
	cfg := sim.DefaultConfig()
	cfg.Speed, cfg.Peaks = 600, false
	var rec bridgetest.Recorder
	d, err := sim.NewDriver(cfg, []string{"s1", "s2"}, 9, time.Now(), &rec)
	if err != nil {
		t.Fatal(err)
	}
	d.Tick = 10 * time.Millisecond
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	rec.WaitKind(t, wire.EventWeight, 2, 30*time.Second)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	stores := map[string]bool{}
	online, offline := 0, 0
	for _, p := range rec.Events() {
		stores[p.Event.Store] = true
		if want := sim.DeviceOf(p.Event.Kind); p.Event.Kind != wire.EventStatus && p.Device != want {
			t.Fatalf("%s event published as %s, want %s", p.Event.Kind, p.Device, want)
		}
		if p.Event.Kind == wire.EventStatus {
			if p.Event.Status.Online {
				online++
			} else {
				offline++
			}
		}
	}
	if !stores["s1"] || !stores["s2"] || online != 6 || offline != 6 {
		t.Fatalf("stores %v, %d online and %d offline statuses", stores, online, offline)
	}
	if pub, failed := d.Counts(); failed != 0 || pub != len(rec.Events()) {
		t.Fatalf("counts %d/%d, recorded %d", pub, failed, len(rec.Events()))
	}
}
