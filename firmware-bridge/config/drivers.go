package config

import (
	"fmt"
	"time"

	bridge "github.com/passline/passline/firmware-bridge"
	"github.com/passline/passline/firmware-bridge/escpos"
	"github.com/passline/passline/firmware-bridge/evdev"
	"github.com/passline/passline/wire"
)

func (c *Config) validateESCPOS() error {
	e := c.ESCPOS
	if !e.Enabled {
		return nil
	}
	if !wire.ValidToken(e.DeviceID) {
		return fmt.Errorf("escpos.device_id: %q is not a device id", e.DeviceID)
	}
	if err := checkHostPort("escpos.listen", e.Listen); err != nil {
		return err
	}
	if err := checkHostPort("escpos.printer", e.Printer); err != nil {
		return err
	}
	if _, err := escpos.LookupCodePage(e.CodePage); err != nil {
		return fmt.Errorf("escpos.code_page: %w", err)
	}
	if e.DialTimeout <= 0 || e.IdleTimeout <= 0 {
		return fmt.Errorf("escpos.dial_timeout, escpos.idle_timeout: must be positive")
	}
	if len(e.Patterns) == 0 {
		return fmt.Errorf("escpos.patterns: at least one pattern is needed to read tickets")
	}
	if _, err := escpos.NewExtractor(e.Patterns); err != nil {
		return fmt.Errorf("escpos.%w", err)
	}
	if _, err := escpos.ParseScanCode(e.ScanCode); err != nil {
		return fmt.Errorf("escpos.scan_code: %w", err)
	}
	return nil
}

func (c *Config) validateScale() error {
	s := c.Scale
	if !s.Enabled {
		return nil
	}
	switch {
	case !wire.ValidToken(s.DeviceID):
		return fmt.Errorf("scale.device_id: %q is not a device id", s.DeviceID)
	case s.Port == "":
		return fmt.Errorf("scale.port: missing (e.g. /dev/ttyUSB0)")
	case s.Baud < 300 || s.Baud > 921600:
		return fmt.Errorf("scale.baud: %d is not in 300-921600", s.Baud)
	case s.StableReadings < 1 || s.StableReadings > 100:
		return fmt.Errorf("scale.stable_readings: %d is not in 1-100", s.StableReadings)
	case s.ToleranceGrams < 0 || s.MinGrams < 0:
		return fmt.Errorf("scale.tolerance_grams, scale.min_grams: must not be negative")
	case s.Retry <= 0:
		return fmt.Errorf("scale.retry: must be positive")
	}
	return nil
}

func (c *Config) validateEvdev() error {
	e := c.Evdev
	if !e.Enabled {
		return nil
	}
	switch {
	case !wire.ValidToken(e.DeviceID):
		return fmt.Errorf("evdev.device_id: %q is not a device id", e.DeviceID)
	case e.Device == "":
		return fmt.Errorf("evdev.device: missing (e.g. /dev/input/by-id/usb-...-event-kbd)")
	case e.Retry <= 0:
		return fmt.Errorf("evdev.retry: must be positive")
	}
	if _, err := evdev.NewKeyMap(e.Preset, e.Keys); err != nil {
		return fmt.Errorf("evdev.keys: %w", err)
	}
	return nil
}

func (c *Config) validateScanner() error {
	s := c.Scanner
	if !s.Enabled {
		return nil
	}
	switch {
	case !wire.ValidToken(s.DeviceID):
		return fmt.Errorf("scanner.device_id: %q is not a device id", s.DeviceID)
	case s.Device == "":
		return fmt.Errorf("scanner.device: missing (e.g. /dev/input/by-id/usb-...-event-kbd)")
	case c.Evdev.Enabled && s.Device == c.Evdev.Device:
		return fmt.Errorf("scanner.device: %s is the bump bar's evdev.device; the scanner is a device of its own", s.Device)
	case c.Evdev.Enabled && s.DeviceID == c.Evdev.DeviceID:
		return fmt.Errorf("scanner.device_id: %q is the bump bar's evdev.device_id", s.DeviceID)
	case s.Gap <= 0 || s.Gap > 10*time.Second:
		return fmt.Errorf("scanner.gap: %s is not in (0, 10s]", s.Gap)
	case s.Retry <= 0:
		return fmt.Errorf("scanner.retry: must be positive")
	}
	return nil
}

func (c *Config) validateGPIO() error {
	g := c.GPIO
	if !g.Enabled {
		return nil
	}
	switch {
	case !wire.ValidToken(g.DeviceID):
		return fmt.Errorf("gpio.device_id: %q is not a device id", g.DeviceID)
	case g.Debounce <= 0 || g.Debounce > time.Second:
		return fmt.Errorf("gpio.debounce: %s is not in (0, 1s]", g.Debounce)
	case g.Poll <= 0 || g.Poll > g.Debounce:
		return fmt.Errorf("gpio.poll: %s must be positive and at most gpio.debounce", g.Poll)
	case len(g.Buttons) == 0 && len(g.Outputs) == 0:
		return fmt.Errorf("gpio.buttons: no buttons and no outputs")
	}
	pins := map[string]string{}
	for i, b := range g.Buttons {
		f := fmt.Sprintf("gpio.buttons[%d]", i)
		if err := usePin(pins, b.Pin, f); err != nil {
			return err
		}
		if _, err := bridge.ParseAction(b.Action); err != nil {
			return fmt.Errorf("%s.action: %w", f, err)
		}
		switch b.Pull {
		case "up", "down", "none", "":
		default:
			return fmt.Errorf("%s.pull: %q is not up, down or none", f, b.Pull)
		}
	}
	names := map[string]bool{}
	for i, o := range g.Outputs {
		f := fmt.Sprintf("gpio.outputs[%d]", i)
		if err := usePin(pins, o.Pin, f); err != nil {
			return err
		}
		if !wire.ValidToken(o.Name) || names[o.Name] {
			return fmt.Errorf("%s.name: %q must be a unique token", f, o.Name)
		}
		names[o.Name] = true
	}
	return nil
}

func usePin(pins map[string]string, pin, field string) error {
	if pin == "" {
		return fmt.Errorf("%s.pin: missing", field)
	}
	if other, ok := pins[pin]; ok {
		return fmt.Errorf("%s.pin: %s is already used by %s", field, pin, other)
	}
	pins[pin] = field
	return nil
}
