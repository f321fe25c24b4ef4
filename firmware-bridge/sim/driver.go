package sim

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	bridge "github.com/passline/passline/firmware-bridge"
	"github.com/passline/passline/wire"
)

var _ bridge.Driver = (*Driver)(nil)

// Driver runs one Kitchen per store against the wall clock and publishes
// what its virtual devices see, exactly as the real drivers would: status
// when it starts and stops, tickets, bump keys and stable weights.
type Driver struct {
	Pub    bridge.Publisher
	Logger *slog.Logger
	Tick   time.Duration    // how often the kitchens are stepped; 0 means 100 ms
	Now    func() time.Time // nil means time.Now

	kitchens []*Kitchen
	cfgs     []Config
	loop     bridge.Loop

	mu        sync.Mutex
	published int
	failed    int
}

// NewDriver builds a kitchen for each store from cfg, seeded with seed plus
// the store's index, opening at start. Order ids start with the store and
// start's Unix time, so a restarted driver never reuses an order id.
func NewDriver(cfg Config, stores []string, seed uint64, start time.Time, pub bridge.Publisher) (*Driver, error) {
	if len(stores) == 0 {
		return nil, errors.New("sim: no stores")
	}
	d := &Driver{Pub: pub, Logger: slog.Default()}
	for i, store := range stores {
		c := cfg
		c.Store = store
		c.IDPrefix = fmt.Sprintf("%s-%x", truncate(store, 28), start.Unix())
		k, err := NewKitchen(c, seed+uint64(i), start)
		if err != nil {
			return nil, fmt.Errorf("sim store %q: %w", store, err)
		}
		d.kitchens = append(d.kitchens, k)
		d.cfgs = append(d.cfgs, c)
	}
	return d, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// Start publishes the virtual devices as online and starts stepping the
// kitchens until Close. It never fails; the error is bridge.Driver's.
func (d *Driver) Start(ctx context.Context) error {
	d.setStatus(true, "simulated")
	tick := d.Tick
	if tick <= 0 {
		tick = 100 * time.Millisecond
	}
	d.loop.Go(ctx, func(ctx context.Context) {
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			d.step(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	return nil
}

// Close stops the kitchens and publishes the virtual devices as offline.
func (d *Driver) Close() error {
	if d.loop.Stop(nil) {
		d.setStatus(false, "simulation stopped")
	}
	return nil
}

// Alive is nil while the kitchens are being stepped (bridge.Loop.Alive).
func (d *Driver) Alive() error { return d.loop.Alive() }

// Counts returns how many events were published and how many failed.
func (d *Driver) Counts() (published, failed int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.published, d.failed
}

func (d *Driver) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Driver) step(ctx context.Context) {
	now := d.now()
	for _, k := range d.kitchens {
		for _, ev := range k.Step(now) {
			if ctx.Err() != nil {
				return // stopping: the rest of this step is not published
			}
			d.publish(DeviceOf(ev.Kind), ev)
		}
		k.TakeOutcomes() // ground truth is for evaluations, not for the live driver
	}
}

func (d *Driver) publish(dev wire.Device, ev wire.Event) {
	err := d.Pub.Publish(dev, ev)
	d.mu.Lock()
	defer d.mu.Unlock()
	if err != nil {
		d.failed++
		level := slog.LevelWarn
		if errors.Is(err, bridge.ErrQueued) {
			level = slog.LevelDebug // the broker is away; one line per event would flood the log
		}
		d.Logger.Log(context.Background(), level, "sim publish failed", "kind", ev.Kind, "store", ev.Store, "err", err)
		return
	}
	d.published++
}

func (d *Driver) setStatus(online bool, detail string) {
	now := d.now()
	for _, c := range d.cfgs {
		for dev, id := range map[wire.Device]string{wire.DevicePrinter: c.PrinterID, wire.DeviceBumpBar: c.BumpBarID, wire.DeviceScale: c.ScaleID} {
			d.publish(dev, bridge.StatusEvent(c.Store, id, online, detail, now))
		}
	}
}

// DeviceOf is the device kind that publishes events of kind k.
func DeviceOf(k wire.EventKind) wire.Device {
	switch k {
	case wire.EventTicket, wire.EventUnparsed:
		return wire.DevicePrinter
	case wire.EventKey:
		return wire.DeviceBumpBar
	case wire.EventWeight:
		return wire.DeviceScale
	case wire.EventPOS:
		return wire.DevicePOS
	}
	return wire.DeviceBridge
}
