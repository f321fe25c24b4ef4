package gpio_test

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	bridge "github.com/passline/passline/firmware-bridge"
	"github.com/passline/passline/firmware-bridge/bridgetest"
	bgpio "github.com/passline/passline/firmware-bridge/gpio"
	"github.com/passline/passline/wire"
)

var t0 = time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

func TestDebouncer(t *testing.T) {
	type sample struct {
		at     int
		active bool
	}
	for name, tc := range map[string]struct {
		samples []sample
		presses int
	}{
		"clean press":               {[]sample{{0, false}, {10, true}, {45, true}, {100, false}, {200, false}}, 1},
		"bounce within window":      {[]sample{{0, false}, {10, true}, {12, false}, {14, true}, {15, false}, {17, true}, {30, true}, {48, true}, {60, true}}, 1},
		"spike shorter than window": {[]sample{{0, false}, {10, true}, {20, false}, {30, true}, {35, false}, {100, false}}, 0},
		"held at start":             {[]sample{{0, true}, {50, true}, {100, true}}, 0},
		"two presses":               {[]sample{{0, false}, {10, true}, {41, true}, {50, false}, {90, false}, {100, true}, {131, true}}, 2},
		"release bounce":            {[]sample{{0, false}, {10, true}, {40, true}, {50, false}, {51, true}, {52, false}, {53, true}, {54, false}, {100, false}}, 1},
	} {
		t.Run(name, func(t *testing.T) {
			d := bgpio.Debouncer{Window: 30 * time.Millisecond}
			n := 0
			for _, s := range tc.samples {
				if d.Update(s.active, ms(s.at)) {
					n++
				}
			}
			if n != tc.presses {
				t.Fatalf("%d presses, want %d", n, tc.presses)
			}
		})
	}
}

func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// A bouncing button on a gpiotest.Pin, sampled with a fake clock, gives
// exactly one bump event; a pull-down button reads inverted.
func TestButtonsOnePressPerBounce(t *testing.T) {
	up := &gpiotest.Pin{N: "GPIO17", Num: 17}
	down := &gpiotest.Pin{N: "GPIO18", Num: 18}
	rec := &bridgetest.Recorder{}
	b := &bgpio.Buttons{
		Buttons: []bgpio.Button{
			{Pin: up, Action: bridge.Action{Key: wire.KeyBump}, Station: "wok", Pull: gpio.PullUp},
			{Pin: down, Action: bridge.Action{Key: wire.KeySelect, Position: 2}, Station: "grill", Pull: gpio.PullDown},
		},
		Debounce: 30 * time.Millisecond, Pub: rec, Store: "s1", DeviceID: "gpio-1", Logger: quiet(),
	}
	if err := b.Init(); err != nil {
		t.Fatal(err)
	}
	if up.Read() != gpio.High || down.Read() != gpio.Low {
		t.Fatal("pulls not applied: idle levels wrong")
	}
	level := func(p *gpiotest.Pin, l gpio.Level) { _ = p.Out(l) }
	step := 0
	sample := func(n int) {
		for i := 0; i < n; i++ {
			step++
			b.Sample(ms(step))
		}
	}
	sample(5)
	// The pull-up button is pressed (goes low) and bounces for 8 ms.
	for i := 0; i < 4; i++ {
		level(up, gpio.Low)
		sample(1)
		level(up, gpio.High)
		sample(1)
	}
	level(up, gpio.Low)
	sample(60)
	// Released, with bounce.
	level(up, gpio.High)
	sample(1)
	level(up, gpio.Low)
	sample(1)
	level(up, gpio.High)
	sample(60)
	// The pull-down button is pressed (goes high) cleanly.
	level(down, gpio.High)
	sample(40)
	keys := rec.Kind(wire.EventKey)
	if len(keys) != 2 {
		t.Fatalf("%d key events, want 2: %+v", len(keys), keys)
	}
	if k := keys[0].Key; k.Action != wire.KeyBump || k.Station != "wok" {
		t.Fatalf("first key %+v", k)
	}
	if k := keys[1].Key; k.Action != wire.KeySelect || k.Position != 2 || k.Station != "grill" {
		t.Fatalf("second key %+v", k)
	}
	if !keys[0].At.Equal(ms(5 + 8 + 1 + 30)) {
		t.Fatalf("press stamped %s, want the fake clock's %s", keys[0].At, ms(44))
	}
}

// MQTT commands drive outputs: on, off, on for a while; bad commands and
// unknown outputs change nothing.
func TestOutputsFollowCommands(t *testing.T) {
	led := &gpiotest.Pin{N: "GPIO27"}
	buzzer := &gpiotest.Pin{N: "GPIO22"}
	o := &bgpio.Outputs{Outputs: []bgpio.Output{{Name: "pickup-light", Pin: led}, {Name: "buzzer", Pin: buzzer, ActiveLow: true}}, Logger: quiet()}
	if err := o.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if led.Read() != gpio.Low || buzzer.Read() != gpio.High {
		t.Fatal("outputs not off at start")
	}
	waitLevel := func(p *gpiotest.Pin, want gpio.Level) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for p.Read() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%s stayed %v, want %v", p.N, p.Read(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	topic := func(name string) string { return wire.CommandTopic("s1", "gpio-1", name) }
	o.Handle(topic("pickup-light"), []byte(`{"on":true}`))
	waitLevel(led, gpio.High)
	o.Handle(topic("buzzer"), []byte(`{"on":true,"for_ms":50}`))
	waitLevel(buzzer, gpio.Low)  // active low: on
	waitLevel(buzzer, gpio.High) // and off again by itself
	o.Handle(topic("pickup-light"), []byte(`{"on":"yes"}`))
	o.Handle(topic("nope"), []byte(`{"on":false}`))
	time.Sleep(50 * time.Millisecond)
	if led.Read() != gpio.High {
		t.Fatal("a bad command changed the light")
	}
	o.Handle(topic("pickup-light"), []byte(`{"on":false}`))
	waitLevel(led, gpio.Low)
}

func FuzzDecodeCommand(f *testing.F) {
	for _, s := range []string{`{"on":true}`, `{"on":true,"for_ms":5000}`, `{"on":false,"for_ms":5}`, `{"on":1}`, `{}`, `{"on":true}{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := bgpio.DecodeCommand(b)
		if err != nil {
			return
		}
		if c.ForMS < 0 || time.Duration(c.ForMS)*time.Millisecond > bgpio.MaxPulse || (c.ForMS > 0 && !c.On) {
			t.Fatalf("accepted %+v", c)
		}
	})
}
