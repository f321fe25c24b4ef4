package app

import (
	"context"
	"fmt"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpioreg"

	bridge "github.com/passline/passline/firmware-bridge"
	"github.com/passline/passline/firmware-bridge/escpos"
	"github.com/passline/passline/firmware-bridge/evdev"
	bgpio "github.com/passline/passline/firmware-bridge/gpio"
	"github.com/passline/passline/firmware-bridge/scale"
	"github.com/passline/passline/internal/service"
	"github.com/passline/passline/wire"
)

// startDrivers starts every enabled driver, each registered for Close.
func (m *Main) startDrivers(ctx context.Context) error {
	for _, d := range []struct {
		on    bool
		start func(context.Context) error
	}{
		{m.Config.Sim.Enabled, m.startSim},
		{m.Config.ESCPOS.Enabled, m.startESCPOS},
		{m.Config.Scale.Enabled, m.startScale},
		{m.Config.Evdev.Enabled, m.startEvdev},
		{m.Config.Scanner.Enabled, m.startScanner},
		{m.Config.GPIO.Enabled, m.startGPIO},
	} {
		if !d.on {
			continue
		}
		if err := d.start(ctx); err != nil {
			return err
		}
	}
	if len(m.inputs) > 0 {
		m.Registry.MustRegister(inputCollector(m.inputs))
	}
	return nil
}

// start starts d and registers its Close under name, which also prefixes
// a start error, and its Alive when it has one.
func (m *Main) start(ctx context.Context, name string, d bridge.Driver) error {
	if err := d.Start(ctx); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	m.started.Push(name, d.Close)
	if c, ok := d.(service.Checker); ok {
		m.checks = append(m.checks, namedCheck{name, c})
	}
	return nil
}

func (m *Main) startESCPOS(ctx context.Context) error {
	c := m.Config.ESCPOS
	cp, err := escpos.LookupCodePage(c.CodePage)
	if err != nil {
		return fmt.Errorf("escpos.code_page: %w", err)
	}
	x, err := escpos.NewExtractor(c.Patterns)
	if err != nil {
		return fmt.Errorf("escpos.%w", err)
	}
	sc, err := escpos.ParseScanCode(c.ScanCode)
	if err != nil {
		return fmt.Errorf("escpos.scan_code: %w", err)
	}
	p := &escpos.Proxy{
		Listen: c.Listen, Printer: c.Printer, DialTimeout: c.DialTimeout, IdleTimeout: c.IdleTimeout,
		CodePage: cp, Extractor: x, ScanCode: sc, Pub: m.pub(), Store: m.Config.Store, DeviceID: c.DeviceID,
		Logger: m.Logger.With("driver", "escpos"),
	}
	if err := m.start(ctx, "escpos", p); err != nil {
		return err
	}
	m.Proxy = p
	m.Registry.MustRegister(proxyCollector{p})
	return nil
}

func (m *Main) startScale(ctx context.Context) error {
	c := m.Config.Scale
	d := &scale.Driver{
		Port: c.Port, Baud: c.Baud, StableReadings: c.StableReadings, ToleranceGrams: c.ToleranceGrams,
		MinGrams: c.MinGrams, Retry: c.Retry, Pub: m.pub(), Store: m.Config.Store, DeviceID: c.DeviceID,
		Logger: m.Logger.With("driver", "scale"),
	}
	return m.start(ctx, "scale", d)
}

func (m *Main) startEvdev(ctx context.Context) error {
	c := m.Config.Evdev
	keys, err := evdev.NewKeyMap(c.Preset, c.Keys)
	if err != nil {
		return fmt.Errorf("evdev.keys: %w", err)
	}
	d := &evdev.Driver{
		Device: c.Device, Keys: keys, Station: c.Station, Retry: c.Retry,
		Pub: m.pub(), Store: m.Config.Store, DeviceID: c.DeviceID, Logger: m.Logger.With("driver", "evdev"),
	}
	m.inputs = append(m.inputs, input{c.DeviceID, d})
	return m.start(ctx, "evdev", d)
}

func (m *Main) startScanner(ctx context.Context) error {
	c := m.Config.Scanner
	d := &evdev.Driver{
		Device: c.Device, Scanner: &evdev.Scanner{Gap: c.Gap}, Retry: c.Retry,
		Pub: m.pub(), Store: m.Config.Store, DeviceID: c.DeviceID, Logger: m.Logger.With("driver", "scanner"),
	}
	m.inputs = append(m.inputs, input{c.DeviceID, d})
	return m.start(ctx, "scanner", d)
}

func (m *Main) pin(field, name string) (gpio.PinIO, error) {
	byName := m.PinByName
	if byName == nil {
		byName = gpioreg.ByName
	}
	p := byName(name)
	if p == nil {
		return nil, fmt.Errorf("%s: no GPIO pin named %q on this board", field, name)
	}
	return p, nil
}

func (m *Main) startGPIO(ctx context.Context) error {
	c := m.Config.GPIO
	b := &bgpio.Buttons{Debounce: c.Debounce, Poll: c.Poll, Pub: m.pub(), Store: m.Config.Store, DeviceID: c.DeviceID, Logger: m.Logger.With("driver", "gpio")}
	for i, cb := range c.Buttons {
		p, err := m.pin(fmt.Sprintf("gpio.buttons[%d].pin", i), cb.Pin)
		if err != nil {
			return err
		}
		a, _ := bridge.ParseAction(cb.Action) // validated with the config
		pull := map[string]gpio.Pull{"up": gpio.PullUp, "": gpio.PullUp, "down": gpio.PullDown, "none": gpio.Float}[cb.Pull]
		b.Buttons = append(b.Buttons, bgpio.Button{Pin: p, Action: a, Station: cb.Station, Pull: pull})
	}
	o := &bgpio.Outputs{Logger: m.Logger.With("driver", "gpio")}
	for i, co := range c.Outputs {
		p, err := m.pin(fmt.Sprintf("gpio.outputs[%d].pin", i), co.Pin)
		if err != nil {
			return err
		}
		o.Outputs = append(o.Outputs, bgpio.Output{Name: co.Name, Pin: p, ActiveLow: co.ActiveLow})
	}
	if len(b.Buttons) > 0 {
		if err := m.start(ctx, "gpio buttons", b); err != nil {
			return err
		}
	}
	if len(o.Outputs) > 0 {
		if err := m.start(ctx, "gpio outputs", o); err != nil {
			return err
		}
		topic := wire.CommandTopic(m.Config.Store, c.DeviceID, "+")
		if err := m.MQTT.Subscribe(topic, o.Handle); err != nil {
			m.Logger.Warn("subscribe to output commands; retried on reconnect", "topic", topic, "err", err)
		}
	}
	return nil
}
