package app

import (
	"context"
	"fmt"

	periphgpio "periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"

	"github.com/passline/passline/agent/gpio"
	"github.com/passline/passline/wire"
)

// PinIn is a GPIO input pin (periph.io).
type PinIn = periphgpio.PinIn

// registryPin looks a pin up in periph's registry; main must call
// host.Init first.
func registryPin(name string) (PinIn, error) {
	p := gpioreg.ByName(name)
	if p == nil {
		return nil, fmt.Errorf("gpio pin %q not found on this host", name)
	}
	return p, nil
}

func (m *Main) startGPIO(ctx context.Context) error {
	c := m.Config.GPIO
	if !c.Enabled {
		return nil
	}
	lookup := m.Pins
	if lookup == nil {
		lookup = registryPin
	}
	s := &gpio.Source{Store: m.Config.Store, DeviceID: c.DeviceID, Debounce: c.Debounce,
		Offer: m.Writer.Offer, Log: m.Log.With("component", "gpio")}
	for i, p := range c.Pins {
		pin, err := lookup(p.Pin)
		if err != nil {
			return fmt.Errorf("gpio.pins[%d]: %w", i, err)
		}
		s.Buttons = append(s.Buttons, gpio.Button{Pin: pin, Action: wire.KeyAction(p.Action),
			Station: p.Station, Position: p.Position, ActiveLow: p.ActiveLow})
	}
	m.GPIO = s
	m.running.PushFunc("gpio", s.Close)
	return s.Run(ctx)
}
