package gpio

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/wire"
)

// Button is one bump-bar key on a pin.
type Button struct {
	Pin       gpio.PinIn
	Action    wire.KeyAction
	Station   string
	Position  int  // for select
	ActiveLow bool // pressed reads Low (pull-up wiring)
}

// Source watches buttons and offers a key event per debounced press. One
// goroutine per pin (not per press); each waits for edges with a finite
// timeout so Close returns promptly, and re-reads the level after every
// wake-up because WaitForEdge can return spuriously.
type Source struct {
	Store, DeviceID string
	Buttons         []Button
	Debounce        time.Duration
	Offer           func(agent.Input) bool
	Now             func() time.Time
	Log             *slog.Logger

	cancel  context.CancelFunc
	wg      sync.WaitGroup
	presses atomic.Int64
	dropped atomic.Int64
	seq     atomic.Int64
}

// Run configures every pin as an input with both edges and starts watching.
func (s *Source) Run(ctx context.Context) error {
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.Log == nil {
		s.Log = slog.Default()
	}
	for _, b := range s.Buttons {
		pull := gpio.PullDown
		if b.ActiveLow {
			pull = gpio.PullUp
		}
		if err := b.Pin.In(pull, gpio.BothEdges); err != nil {
			return fmt.Errorf("gpio pin %s as input: %w", b.Pin, err)
		}
	}
	ctx, s.cancel = context.WithCancel(ctx)
	for _, b := range s.Buttons {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.watch(ctx, b)
		}()
	}
	return nil
}

// Close stops watching and waits for the pin goroutines.
func (s *Source) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
}

// Presses counts debounced presses; Dropped those the full queue refused.
func (s *Source) Presses() int64 { return s.presses.Load() }

// Dropped counts presses refused by a full queue (a local key has no broker
// to redeliver it).
func (s *Source) Dropped() int64 { return s.dropped.Load() }

func (s *Source) watch(ctx context.Context, b Button) {
	pressed := gpio.High
	if b.ActiveLow {
		pressed = gpio.Low
	}
	d := NewDebouncer(s.Debounce, b.Pin.Read())
	wait := 100 * time.Millisecond
	for ctx.Err() == nil {
		timeout := wait
		if d.Pending() {
			timeout = max(s.Debounce/2, time.Millisecond)
		}
		b.Pin.WaitForEdge(timeout)
		level, changed := d.Update(b.Pin.Read(), s.Now())
		if changed && level == pressed {
			s.press(b)
		}
	}
}

func (s *Source) press(b Button) {
	s.presses.Add(1)
	now := s.Now()
	ev := &wire.Event{V: wire.Version, Kind: wire.EventKey, Store: s.Store, DeviceID: s.DeviceID, At: now,
		ID:  fmt.Sprintf("%s-%d-%d", s.DeviceID, now.UnixNano(), s.seq.Add(1)),
		Key: &wire.Key{Action: b.Action, Station: b.Station, Position: b.Position}}
	if err := ev.ValidateAt(now); err != nil {
		s.Log.Error("gpio key event invalid; check gpio config", "pin", b.Pin.String(), "err", err)
		return
	}
	if !s.Offer(agent.Input{Event: ev, Received: now}) {
		s.dropped.Add(1)
		s.Log.Warn("ingest queue full; gpio key press dropped", "pin", b.Pin.String(), "action", b.Action)
	}
}
