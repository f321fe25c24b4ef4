package gpio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"

	bridge "github.com/passline/passline/firmware-bridge"
)

// MaxCommand is the largest command payload accepted.
const MaxCommand = 1024

// MaxPulse bounds how long a command may hold an output on.
const MaxPulse = 10 * time.Minute

// Command sets an output: {"on": true, "for_ms": 5000} turns it on for
// five seconds; without for_ms it stays as set.
type Command struct {
	On    bool `json:"on"`
	ForMS int  `json:"for_ms,omitempty"`
}

// DecodeCommand parses and checks a command payload.
func DecodeCommand(b []byte) (Command, error) {
	if len(b) > MaxCommand {
		return Command{}, fmt.Errorf("command is %d bytes, limit %d", len(b), MaxCommand)
	}
	var c Command
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Command{}, fmt.Errorf("command: %w", err)
	}
	if dec.More() {
		return Command{}, errors.New("command: trailing data")
	}
	if c.ForMS < 0 || time.Duration(c.ForMS)*time.Millisecond > MaxPulse {
		return Command{}, fmt.Errorf("command: for_ms %d is not in 0-%d", c.ForMS, MaxPulse.Milliseconds())
	}
	if c.ForMS > 0 && !c.On {
		return Command{}, errors.New("command: for_ms needs on=true")
	}
	return c, nil
}

// Output is an LED or buzzer.
type Output struct {
	Name      string
	Pin       gpio.PinOut
	ActiveLow bool
}

var _ bridge.Driver = (*Outputs)(nil)

// Outputs applies commands to outputs from one goroutine. Handle never
// blocks (it is called from the MQTT client's delivery goroutine): a
// command that finds the queue full is dropped and logged.
type Outputs struct {
	Outputs []Output
	Logger  *slog.Logger

	byName map[string]*Output
	queue  chan namedCommand
	loop   bridge.Loop
	mu     sync.Mutex
	offAt  map[string]time.Time
}

type namedCommand struct {
	name string
	cmd  Command
}

// Start sets every output off and applies commands until Close.
func (o *Outputs) Start(ctx context.Context) error {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	o.byName, o.offAt = map[string]*Output{}, map[string]time.Time{}
	o.queue = make(chan namedCommand, 32)
	for i := range o.Outputs {
		out := &o.Outputs[i]
		if err := out.set(false); err != nil {
			return fmt.Errorf("gpio output %s: %w", out.Name, err)
		}
		o.byName[out.Name] = out
	}
	o.loop.Go(ctx, o.apply)
	return nil
}

// Handle takes a command for the output named by the last topic level.
func (o *Outputs) Handle(topic string, payload []byte) {
	name := topic[strings.LastIndexByte(topic, '/')+1:]
	if _, ok := o.byName[name]; !ok {
		o.Logger.Warn("command for an unknown output", "topic", topic)
		return
	}
	cmd, err := DecodeCommand(payload)
	if err != nil {
		o.Logger.Warn("bad output command", "topic", topic, "err", err)
		return
	}
	select {
	case o.queue <- namedCommand{name, cmd}:
	default:
		o.Logger.Warn("output command queue full; command dropped", "output", name)
	}
}

// apply applies commands and ends timed ones until ctx ends, then turns
// every output off.
func (o *Outputs) apply(ctx context.Context) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			for _, out := range o.byName {
				_ = out.set(false)
			}
			return
		case c := <-o.queue:
			o.set(c, time.Now())
		case now := <-t.C:
			o.expire(now)
		}
	}
}

func (o *Outputs) set(c namedCommand, now time.Time) {
	out := o.byName[c.name]
	if err := out.set(c.cmd.On); err != nil {
		o.Logger.Warn("set output", "output", c.name, "err", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.offAt, c.name)
	if c.cmd.ForMS > 0 {
		o.offAt[c.name] = now.Add(time.Duration(c.cmd.ForMS) * time.Millisecond)
	}
}

func (o *Outputs) expire(now time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for name, at := range o.offAt {
		if !now.Before(at) {
			_ = o.byName[name].set(false)
			delete(o.offAt, name)
		}
	}
}

// Alive is nil while commands are applied (bridge.Loop.Alive).
func (o *Outputs) Alive() error { return o.loop.Alive() }

// Close turns every output off and stops.
func (o *Outputs) Close() error {
	o.loop.Stop(nil)
	return nil
}

func (out *Output) set(on bool) error {
	level := gpio.Level(on)
	if out.ActiveLow {
		level = !level
	}
	return out.Pin.Out(level)
}
