package gpio

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"periph.io/x/conn/v3/gpio"

	bridge "github.com/passline/passline/firmware-bridge"
	"github.com/passline/passline/wire"
)

// Button is one push button wired as a bump bar key.
type Button struct {
	Pin     gpio.PinIn
	Action  bridge.Action
	Station string
	// Pull is gpio.PullUp for a button to ground (pressed reads low),
	// gpio.PullDown for a button to 3V3 (pressed reads high), or
	// gpio.Float with an external resistor (pressed reads low).
	Pull gpio.Pull
}

var _ bridge.Driver = (*Buttons)(nil)

// Buttons samples its buttons every Poll and publishes debounced presses.
type Buttons struct {
	Buttons  []Button
	Debounce time.Duration
	Poll     time.Duration
	Pub      bridge.Publisher
	Store    string
	DeviceID string
	Logger   *slog.Logger

	deb    []Debouncer
	health *bridge.Health
	loop   bridge.Loop
}

// Init configures the pins as inputs with their pulls; Start calls it.
func (b *Buttons) Init() error {
	if b.Logger == nil {
		b.Logger = slog.Default()
	}
	b.deb = make([]Debouncer, len(b.Buttons))
	for i, btn := range b.Buttons {
		if err := btn.Pin.In(btn.Pull, gpio.NoEdge); err != nil {
			return fmt.Errorf("gpio button %s: set input: %w", btn.Pin, err)
		}
		b.deb[i].Window = b.Debounce
	}
	b.health = &bridge.Health{Pub: b.Pub, Device: wire.DeviceBumpBar, Store: b.Store, DeviceID: b.DeviceID}
	return nil
}

// Sample reads every button once at now and publishes the presses that
// complete. The poll loop calls it; tests call it with a fake clock.
func (b *Buttons) Sample(now time.Time) {
	for i, btn := range b.Buttons {
		active := btn.Pin.Read() == gpio.Low
		if btn.Pull == gpio.PullDown {
			active = !active
		}
		if !b.deb[i].Update(active, now) {
			continue
		}
		ev := btn.Action.Event(b.Store, b.DeviceID, btn.Station, 0, now)
		if err := b.Pub.Publish(wire.DeviceBumpBar, ev); err != nil {
			b.Logger.Warn("publish button press", "pin", btn.Pin.String(), "err", err)
		}
	}
}

// Start configures the pins and polls them until Close.
func (b *Buttons) Start(ctx context.Context) error {
	if err := b.Init(); err != nil {
		return err
	}
	if err := b.health.Set(true, fmt.Sprintf("%d buttons", len(b.Buttons))); err != nil {
		b.Logger.Warn("publish gpio status", "err", err)
	}
	b.loop.Go(ctx, func(ctx context.Context) {
		t := time.NewTicker(b.Poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-t.C:
				b.Sample(now)
			}
		}
	})
	return nil
}

// Alive is nil while the buttons are polled (bridge.Loop.Alive).
func (b *Buttons) Alive() error { return b.loop.Alive() }

// Close stops polling and reports the buttons offline.
func (b *Buttons) Close() error {
	if b.loop.Stop(nil) {
		_ = b.health.Set(false, "bridge stopped")
	}
	return nil
}
