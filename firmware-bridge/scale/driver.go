package scale

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	"go.bug.st/serial"

	bridge "github.com/passline/passline/firmware-bridge"
	"github.com/passline/passline/wire"
)

var _ Port = serial.Port(nil)

// Port is an open serial port; go.bug.st/serial's Port satisfies it.
type Port interface {
	io.ReadCloser
	SetReadTimeout(time.Duration) error
}

var _ bridge.Driver = (*Driver)(nil)

// Driver reads a scale and publishes stable weights. When the port cannot
// be opened or fails (unplugged), it reports the scale offline and tries
// again every Retry until Close.
type Driver struct {
	Port           string // e.g. /dev/ttyUSB0
	Baud           int
	StableReadings int
	ToleranceGrams float64
	MinGrams       float64
	Retry          time.Duration
	Pub            bridge.Publisher
	Store          string
	DeviceID       string
	Logger         *slog.Logger
	Now            func() time.Time // nil means time.Now
	// Open opens the port; nil means go.bug.st/serial at Baud, 8N1.
	Open func(name string) (Port, error)

	health  *bridge.Health
	run     bridge.Sessions
	lines   atomic.Int64
	noise   atomic.Int64
	weights atomic.Int64
}

// Alive is nil while the scale's sessions keep running, the scale
// present or not (bridge.Sessions.Alive).
func (d *Driver) Alive() error { return d.run.Alive() }

// Counts returns lines read, lines that were not weights, weights published.
func (d *Driver) Counts() (lines, noise, weights int64) {
	return d.lines.Load(), d.noise.Load(), d.weights.Load()
}

// Start runs the read loop until Close.
func (d *Driver) Start(ctx context.Context) error {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Open == nil {
		d.Open = d.openSerial
	}
	d.health = &bridge.Health{Pub: d.Pub, Device: wire.DeviceScale, Store: d.Store, DeviceID: d.DeviceID, Now: d.Now}
	d.run = bridge.Sessions{What: "scale", Health: d.health, Retry: d.Retry, Log: d.Logger.With("port", d.Port)}
	d.run.Start(ctx, d.session)
	return nil
}

// Close stops reading, closes the port and reports the scale offline.
func (d *Driver) Close() error {
	d.run.Stop(nil)
	return nil
}

func (d *Driver) openSerial(name string) (Port, error) {
	return serial.Open(name, &serial.Mode{BaudRate: d.Baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
}

// session opens the port and reads it until an error or ctx ends.
func (d *Driver) session(ctx context.Context) error {
	p, err := d.Open(d.Port)
	if err != nil {
		return fmt.Errorf("open %s: %w", d.Port, err)
	}
	defer p.Close()
	if err := p.SetReadTimeout(200 * time.Millisecond); err != nil {
		return fmt.Errorf("set read timeout on %s: %w", d.Port, err)
	}
	if err := d.health.Set(true, ""); err != nil {
		d.Logger.Warn("publish scale status", "err", err)
	}
	var fr Framer
	det := NewDetector(d.StableReadings, d.ToleranceGrams, d.MinGrams)
	buf := make([]byte, 256)
	for ctx.Err() == nil {
		n, err := p.Read(buf) // n == 0 on the read timeout; an unplugged adapter errors
		if err != nil {
			return fmt.Errorf("read %s: %w", d.Port, err)
		}
		for _, line := range fr.Write(buf[:n]) {
			d.line(line, det)
		}
	}
	return nil
}

func (d *Driver) line(line []byte, det *Detector) {
	d.lines.Add(1)
	r, err := ParseLine(line)
	if err != nil {
		d.noise.Add(1)
		return
	}
	grams, publish := det.Add(r)
	if !publish {
		return
	}
	now := time.Now()
	if d.Now != nil {
		now = d.Now()
	}
	ev := wire.Event{
		ID: bridge.NewEventID(d.DeviceID, now), Kind: wire.EventWeight, Store: d.Store, DeviceID: d.DeviceID, At: now,
		Weight: &wire.Weight{Grams: grams, Stable: true},
	}
	if err := d.Pub.Publish(wire.DeviceScale, ev); err != nil {
		d.Logger.Warn("publish weight", "grams", grams, "err", err)
		return
	}
	d.weights.Add(1)
}
