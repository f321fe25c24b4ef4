package app

import (
	"errors"
	"fmt"

	"github.com/passline/passline/firmware-bridge/escpos"
	"github.com/passline/passline/firmware-bridge/evdev"
	bgpio "github.com/passline/passline/firmware-bridge/gpio"
	"github.com/passline/passline/firmware-bridge/scale"
	"github.com/passline/passline/firmware-bridge/sim"
	"github.com/passline/passline/internal/service"
)

// Every driver reports whether its loops run, so none is left out of Alive.
var _ = []service.Checker{(*sim.Driver)(nil), (*escpos.Proxy)(nil), (*scale.Driver)(nil), (*evdev.Driver)(nil), (*bgpio.Buttons)(nil), (*bgpio.Outputs)(nil)}

// namedCheck is a started driver that can tell whether its loops run.
type namedCheck struct {
	name string
	service.Checker
}

// Alive is nil while the broker link is up or paho keeps retrying it
// (mqtt.Client.Alive: a broker that stays away is not an error, so the
// events queued meanwhile are not thrown away by a restart) and every
// started driver's loops still run. Under systemd the watchdog is fed
// only while it is (internal/service), so a wedged bridge is restarted.
func (m *Main) Alive() error {
	if m.MQTT == nil {
		return errors.New("bridge not running")
	}
	errs := []error{m.MQTT.Alive()}
	for _, c := range m.checks {
		if err := c.Alive(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}
