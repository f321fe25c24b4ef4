package scale_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"go.bug.st/serial"
	"golang.org/x/sys/unix"

	"github.com/passline/passline/firmware-bridge/bridgetest"
	"github.com/passline/passline/firmware-bridge/scale"
	"github.com/passline/passline/wire"
)

// openPTY returns the master side of a new pseudo-terminal and the path of
// its slave, which the driver opens as if it were /dev/ttyUSB0.
func openPTY(tb testing.TB) (*os.File, string) {
	tb.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		tb.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		tb.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		tb.Fatalf("pty number: %v", err)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n)
}

func startDriver(tb testing.TB, port string) (*scale.Driver, *bridgetest.Recorder) {
	tb.Helper()
	rec := &bridgetest.Recorder{}
	d := &scale.Driver{
		Port: port, Baud: 9600, StableReadings: 3, ToleranceGrams: 2, MinGrams: 20, Retry: 50 * time.Millisecond,
		Pub: rec, Store: "s1", DeviceID: "scale-1",
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	}
	if err := d.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = d.Close() })
	return d, rec
}

// A real serial driver on a pseudo-terminal, fed noise, half lines and a
// bag settling on the scale, publishes the stable weight exactly once.
func TestScaleOverPTY(t *testing.T) {
	m, slave := openPTY(t)
	defer m.Close()
	d, rec := startDriver(t, slave)
	rec.WaitKind(t, wire.EventStatus, 1, 10*time.Second) // port open: online

	feed := []string{
		"g\r\n",                                                                // the tail of a line cut by the port opening
		"\x00\xff\xfe garbage \x07\r\n",                                        // line noise
		"ST,GS,+  0.000kg\r\n", "ST,GS,+  0.000kg\r\n", "ST,GS,+  0.000kg\r\n", // empty scale
		"US,GS,+  0.412kg\r\n", "US,GS,+  0.8", "37kg\r\n", // bag going on, a line split in two writes
		"ST,GS,+  0.845kg\r\n", "ST,GS,+  0.846kg\r\n", "ST,G", "S,+  0.845kg\r\n", // stable
		"ST,GS,+  0.845kg\r\n", "ST,GS,+  0.846kg\r\n", "ST,GS,+  0.845kg\r\n", // still there
		"ST,GS,+  0.8\r\n", // truncated line: 0.8 kg would break stability
		"ST,GS,+  0.845kg\r\n", "ST,GS,+  0.845kg\r\n", "ST,GS,+  0.845kg\r\n",
	}
	for _, s := range feed {
		if _, err := m.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	evs := rec.WaitKind(t, wire.EventWeight, 1, 10*time.Second)
	if w := evs[0].Weight; w.Grams != 845 || !w.Stable {
		t.Fatalf("weight %+v", w)
	}
	// Wait until the driver has read everything, then check nothing more came.
	deadline := time.Now().Add(10 * time.Second)
	for {
		lines, noise, _ := d.Counts()
		if lines >= 17 {
			if noise < 2 {
				t.Fatalf("%d noise lines, want the garbage and the half line counted", noise)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("driver read only %d lines", lines)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(rec.Kind(wire.EventWeight)); n != 1 {
		t.Fatalf("%d weight events, want exactly 1: %+v", n, rec.Kind(wire.EventWeight))
	}
}

// An unplugged scale is reported offline and the driver keeps retrying;
// plugged in again (here: a new pseudo-terminal), it is back online and
// weights flow.
func TestScaleUnpluggedThenBack(t *testing.T) {
	m, slave := openPTY(t)
	var path atomic.Value
	path.Store(slave)
	rec := &bridgetest.Recorder{}
	d := &scale.Driver{
		Port: "/dev/ttyUSB-test", Baud: 9600, StableReadings: 2, ToleranceGrams: 2, MinGrams: 20, Retry: 20 * time.Millisecond,
		Pub: rec, Store: "s1", DeviceID: "scale-1",
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
		Open: func(string) (scale.Port, error) {
			return serial.Open(path.Load().(string), &serial.Mode{BaudRate: 9600})
		},
	}
	if err := d.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	rec.WaitKind(t, wire.EventStatus, 1, 10*time.Second)
	m.Close() // unplugged: reads fail, the device node goes away
	if st := rec.WaitKind(t, wire.EventStatus, 2, 10*time.Second); st[1].Status.Online {
		t.Fatalf("status after unplug %+v", st[1].Status)
	}
	m2, slave2 := openPTY(t)
	defer m2.Close()
	path.Store(slave2)
	if st := rec.WaitKind(t, wire.EventStatus, 3, 10*time.Second); !st[2].Status.Online {
		t.Fatalf("status after replug %+v", st[2].Status)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(rec.Kind(wire.EventWeight)) == 0 && time.Now().Before(deadline) {
		_, _ = m2.Write([]byte("ST,GS,+  1.500kg\r\n"))
		time.Sleep(20 * time.Millisecond)
	}
	if w := rec.Kind(wire.EventWeight); len(w) != 1 || w[0].Weight.Grams != 1500 {
		t.Fatalf("weights after replug %+v", w)
	}
}
