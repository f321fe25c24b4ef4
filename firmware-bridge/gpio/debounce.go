// Package gpio drives the box's GPIO header with periph.io: push buttons
// act as bump bar keys (debounced here, since periph's gpioutil.Debounce
// ignores its argument), and outputs (LEDs, buzzers) follow commands sent
// over MQTT on wire.CommandTopic(store, device_id, output).
package gpio

import "time"

// Debouncer turns raw samples of a contact into clean presses. The state
// changes only once the contact has read the new level continuously for
// the window; a press is reported once, when the debounced state goes
// active. It is a pure function of (level, time): no clock, no goroutine.
// The first sample sets the state without reporting a press, so a button
// held at start-up is not a press.
type Debouncer struct {
	Window time.Duration

	init    bool
	stable  bool
	pending bool
	since   time.Time
}

// Update feeds one sample taken at now and reports whether it completes a
// press.
func (d *Debouncer) Update(active bool, now time.Time) (pressed bool) {
	if !d.init {
		d.init, d.stable = true, active
		return false
	}
	if active == d.stable {
		d.pending = false
		return false
	}
	if !d.pending {
		d.pending, d.since = true, now
	}
	if now.Sub(d.since) < d.Window {
		return false
	}
	d.stable, d.pending = active, false
	return active
}
