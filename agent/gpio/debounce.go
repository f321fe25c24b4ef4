// Package gpio is the agent's GPIO bump bar: buttons on the box's pins
// (periph.io gpio.PinIn with edge detection), debounced here because
// periph's gpioutil.Debounce ignores its debounce argument, and turned into
// bump-bar key events for the writer.
package gpio

import (
	"time"

	"periph.io/x/conn/v3/gpio"
)

// Debouncer turns raw pin samples into stable levels: a new level becomes
// stable once it has been read continuously for Window. It is a pure state
// machine over (level, time) with no clock of its own, so tests drive it
// with any timestamps.
type Debouncer struct {
	Window time.Duration

	stable    gpio.Level
	candidate gpio.Level
	since     time.Time
	started   bool
}

// NewDebouncer starts stable at level.
func NewDebouncer(window time.Duration, level gpio.Level) *Debouncer {
	return &Debouncer{Window: window, stable: level, candidate: level, started: true}
}

// Update feeds one sample read at now. It returns the stable level and
// whether this sample changed it.
func (d *Debouncer) Update(level gpio.Level, now time.Time) (gpio.Level, bool) {
	if !d.started {
		d.stable, d.candidate, d.since, d.started = level, level, now, true
		return level, false
	}
	if level != d.candidate {
		d.candidate, d.since = level, now
	}
	if d.candidate != d.stable && now.Sub(d.since) >= d.Window {
		d.stable = d.candidate
		return d.stable, true
	}
	return d.stable, false
}

// Pending reports whether a level change is waiting to become stable; the
// caller should sample again after Window even if no edge comes.
func (d *Debouncer) Pending() bool { return d.candidate != d.stable }
