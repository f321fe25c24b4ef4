package gpio_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/passline/passline/agent"
	agentgpio "github.com/passline/passline/agent/gpio"
	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/wire"
)

func TestDebouncerWithFakeClock(t *testing.T) {
	t0 := time.Unix(1000, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	type sample struct {
		at      int
		level   gpio.Level
		changed bool
	}
	tests := []struct {
		name    string
		samples []sample
	}{
		{"clean press", []sample{{0, gpio.Low, false}, {29, gpio.Low, false}, {30, gpio.Low, true}, {50, gpio.Low, false}}},
		{"bounces restart the window", []sample{{0, gpio.Low, false}, {5, gpio.High, false}, {8, gpio.Low, false},
			{30, gpio.Low, false}, {38, gpio.Low, true}}},
		{"a glitch shorter than the window is ignored", []sample{{0, gpio.Low, false}, {10, gpio.High, false}, {100, gpio.High, false}}},
		{"press then release", []sample{{0, gpio.Low, false}, {30, gpio.Low, true}, {40, gpio.High, false}, {70, gpio.High, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := agentgpio.NewDebouncer(30*time.Millisecond, gpio.High)
			for i, s := range tt.samples {
				_, changed := d.Update(s.level, ms(s.at))
				if changed != s.changed {
					t.Fatalf("sample %d (%v at %d ms): changed = %v", i, s.level, s.at, changed)
				}
			}
		})
	}
}

type sink struct {
	mu  sync.Mutex
	evs []*wire.Event
}

func (s *sink) offer(in agent.Input) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.evs = append(s.evs, in.Event)
	return true
}

func (s *sink) n() int { s.mu.Lock(); defer s.mu.Unlock(); return len(s.evs) }

func TestSourceEmitsOneKeyPerDebouncedPress(t *testing.T) {
	pin := &gpiotest.Pin{N: "GPIO17", EdgesChan: make(chan gpio.Level, 16)}
	out := &sink{}
	s := &agentgpio.Source{Store: "s1", DeviceID: "gpio", Debounce: 10 * time.Millisecond, Offer: out.offer, Log: at.Quiet(),
		Buttons: []agentgpio.Button{{Pin: pin, Action: wire.KeyBump, Station: "grill", ActiveLow: true}}}
	if err := s.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A bouncy press: low, high, low, then held low.
	for _, l := range []gpio.Level{gpio.Low, gpio.High, gpio.Low} {
		pin.EdgesChan <- l
	}
	at.Eventually(t, 5*time.Second, "one press", func() bool { return out.n() == 1 })
	pin.EdgesChan <- gpio.High // release
	time.Sleep(50 * time.Millisecond)
	pin.EdgesChan <- gpio.Low // second press
	at.Eventually(t, 5*time.Second, "second press", func() bool { return out.n() == 2 })
	time.Sleep(50 * time.Millisecond)
	if out.n() != 2 || s.Presses() != 2 {
		t.Fatalf("%d events for 2 presses", out.n())
	}
	ev := out.evs[0]
	if ev.Kind != wire.EventKey || ev.Key.Action != wire.KeyBump || ev.Key.Station != "grill" || ev.ID == out.evs[1].ID {
		t.Errorf("event %+v key %+v", ev, ev.Key)
	}
	if err := ev.Validate(); err != nil {
		t.Error(err)
	}
}
