package evdev

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	bridge "github.com/passline/passline/firmware-bridge"
	"github.com/passline/passline/wire"
)

// eviocgrab is EVIOCGRAB, _IOW('E', 0x90, int).
const eviocgrab = 0x40044590

var _ bridge.Driver = (*Driver)(nil)

// Driver reads one input device: a bump bar, whose mapped key presses it
// publishes as key events, or, with Scanner set, a barcode scanner, whose
// typed codes it publishes as scan events (the ticket's code scanned at
// packing: a ready report). When the device is missing or unplugged it
// reports the device offline and tries again every Retry until Close.
type Driver struct {
	Device string // /dev/input/by-id/...-event-kbd
	Keys   KeyMap // a bump bar's keys; unused with Scanner
	// Scanner, when set, makes the device a barcode scanner.
	Scanner    *Scanner
	Station    string
	RecordSize int // 0 means NativeRecordSize
	Retry      time.Duration
	Pub        bridge.Publisher
	Store      string
	DeviceID   string
	Logger     *slog.Logger
	Now        func() time.Time // nil means time.Now

	health  *bridge.Health
	run     bridge.Sessions
	mu      sync.Mutex
	file    *os.File
	presses atomic.Int64
	ignored atomic.Int64
}

// Alive is nil while the device's sessions keep running, the device
// plugged in or not (bridge.Sessions.Alive).
func (d *Driver) Alive() error { return d.run.Alive() }

// Counts returns the events published (key presses, or scanned codes) and
// the input ignored (presses of unmapped keys, or codes discarded).
func (d *Driver) Counts() (published, ignored int64) { return d.presses.Load(), d.ignored.Load() }

// kind is the device kind the driver publishes as, and its name in logs.
func (d *Driver) kind() (wire.Device, string) {
	if d.Scanner != nil {
		return wire.DeviceScanner, "barcode scanner"
	}
	return wire.DeviceBumpBar, "bump bar"
}

// Start runs the read loop until Close.
func (d *Driver) Start(ctx context.Context) error {
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.RecordSize == 0 {
		d.RecordSize = NativeRecordSize
	}
	if _, err := NewDecoder(d.RecordSize); err != nil {
		return err
	}
	dev, what := d.kind()
	d.health = &bridge.Health{Pub: d.Pub, Device: dev, Store: d.Store, DeviceID: d.DeviceID, Now: d.Now}
	d.run = bridge.Sessions{What: what, Health: d.health, Retry: d.Retry, Log: d.Logger.With("device", d.Device)}
	d.run.Start(ctx, d.session)
	return nil
}

// Close stops reading, releases the device and reports it offline.
func (d *Driver) Close() error {
	d.run.Stop(d.unblock)
	return nil
}

// unblock closes the open device, which ends a blocked read.
func (d *Driver) unblock() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.file != nil {
		_ = d.file.Close()
	}
}

func (d *Driver) session(ctx context.Context) error {
	// Non-blocking open: Close can always interrupt it, and reads still
	// block in the runtime poller.
	f, err := os.OpenFile(d.Device, os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", d.Device, err)
	}
	d.mu.Lock()
	d.file = f
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.file = nil
		d.mu.Unlock()
		_ = f.Close()
	}()
	if ctx.Err() != nil {
		return nil
	}
	if err := unix.IoctlSetInt(int(f.Fd()), eviocgrab, 1); err != nil {
		d.Logger.Debug("could not grab the input device; its keys also reach the console", "device", d.Device, "err", err)
	}
	if err := d.health.Set(true, ""); err != nil {
		_, what := d.kind()
		d.Logger.Warn("publish "+what+" status", "err", err)
	}
	dec, _ := NewDecoder(d.RecordSize)
	buf := make([]byte, 64*d.RecordSize)
	for {
		n, err := f.Read(buf)
		for _, ev := range dec.Write(buf[:n]) {
			d.input(ev)
		}
		if err == io.EOF {
			return fmt.Errorf("%s: device gone (EOF)", d.Device)
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", d.Device, err)
		}
	}
}

func (d *Driver) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// input handles one input event as a bump bar or a scanner.
func (d *Driver) input(ev InputEvent) {
	if d.Scanner != nil {
		d.scan(ev)
		return
	}
	if !ev.Pressed() {
		return
	}
	a, ok := d.Keys[ev.Code]
	if !ok {
		d.ignored.Add(1)
		d.Logger.Debug("unmapped key", "code", ev.Code)
		return
	}
	d.publish(wire.DeviceBumpBar, a.Event(d.Store, d.DeviceID, d.Station, int(ev.Code), d.now()))
}

// scan publishes a code the scanner finished typing.
func (d *Driver) scan(ev InputEvent) {
	now := d.now()
	code, ok, done := d.Scanner.Feed(ev, now)
	if !done {
		return
	}
	if !ok {
		d.ignored.Add(1)
		d.Logger.Warn("scanned code discarded: empty, too long, interrupted, or holding a key that types no character", "length", len(code))
		return
	}
	d.publish(wire.DeviceScanner, wire.Event{ID: bridge.NewEventID(d.DeviceID, now), Kind: wire.EventScan,
		Store: d.Store, DeviceID: d.DeviceID, At: now, Scan: &wire.Scan{Code: code}})
}

func (d *Driver) publish(dev wire.Device, ev wire.Event) {
	if err := d.Pub.Publish(dev, ev); err != nil {
		d.Logger.Warn("publish "+string(ev.Kind), "err", err)
		return
	}
	d.presses.Add(1)
}
