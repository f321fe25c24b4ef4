package evdev_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/passline/passline/firmware-bridge/bridgetest"
	"github.com/passline/passline/firmware-bridge/evdev"
	"github.com/passline/passline/wire"
)

// keyStroke is what the kernel writes for one key press and release.
func keyStroke(size int, code uint16) []byte {
	var b bytes.Buffer
	b.Write(evdev.Encode(size, 1700000000, 1, 4, 4, 458782)) // EV_MSC scan code
	b.Write(evdev.Encode(size, 1700000000, 1, 1, code, 1))   // press
	b.Write(evdev.Encode(size, 1700000000, 1, 0, 0, 0))      // EV_SYN
	b.Write(evdev.Encode(size, 1700000000, 9, 1, code, 2))   // auto-repeat
	b.Write(evdev.Encode(size, 1700000000, 9, 1, code, 0))   // release
	b.Write(evdev.Encode(size, 1700000000, 9, 0, 0, 0))
	return b.Bytes()
}

// fifo makes a named pipe standing in for /dev/input/eventN and opens
// its writing end (O_RDWR, so the open does not wait for a reader).
func fifo(t *testing.T) (string, *os.File) {
	path := filepath.Join(t.TempDir(), "event0")
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	w, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	return path, w
}

func TestDriverPublishesMappedPresses(t *testing.T) {
	for _, size := range []int{24, 16} { // 64-bit and 32-bit arm layouts
		t.Run(map[int]string{24: "64-bit", 16: "32-bit"}[size], func(t *testing.T) {
			path, w := fifo(t)
			keys, err := evdev.NewKeyMap("bump10", map[string]string{"KEY_ESC": "recall"})
			if err != nil {
				t.Fatal(err)
			}
			rec := &bridgetest.Recorder{}
			d := &evdev.Driver{
				Device: path, Keys: keys, Station: "wok", RecordSize: size, Retry: 20 * time.Millisecond,
				Pub: rec, Store: "s1", DeviceID: "bumpbar-1",
				Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
			}
			if err := d.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			rec.WaitKind(t, wire.EventStatus, 1, 10*time.Second)

			stream := append(keyStroke(size, 11), keyStroke(size, 30)...) // KEY_0 (bump), KEY_A (unmapped)
			stream = append(stream, keyStroke(size, 4)...)                // KEY_3: select 3
			stream = append(stream, keyStroke(size, 1)...)                // KEY_ESC: recall (override)
			for i := 0; i < len(stream); i += 7 {                         // records split across writes
				if _, err := w.Write(stream[i:min(i+7, len(stream))]); err != nil {
					t.Fatal(err)
				}
			}
			evs := rec.WaitKind(t, wire.EventKey, 3, 10*time.Second)
			want := []wire.Key{
				{Action: wire.KeyBump, Station: "wok", Code: 11},
				{Action: wire.KeySelect, Station: "wok", Position: 3, Code: 4},
				{Action: wire.KeyRecall, Station: "wok", Code: 1},
			}
			for i, k := range want {
				if *evs[i].Key != k {
					t.Fatalf("key %d: %+v want %+v", i, *evs[i].Key, k)
				}
			}
			if _, unmapped := d.Counts(); unmapped != 1 {
				t.Fatalf("unmapped %d", unmapped)
			}

			w.Close() // unplugged
			st := rec.WaitKind(t, wire.EventStatus, 2, 10*time.Second)
			if st[1].Status.Online || !strings.Contains(st[1].Status.Detail, "gone") {
				t.Fatalf("status after unplug %+v", st[1].Status)
			}
			if n := len(rec.Kind(wire.EventKey)); n != 3 {
				t.Fatalf("%d key events, want 3", n)
			}
		})
	}
}

func TestDecoderRejectsOddSizes(t *testing.T) {
	if _, err := evdev.NewDecoder(20); err == nil {
		t.Fatal("size 20 accepted")
	}
	if evdev.NativeRecordSize != 24 && evdev.NativeRecordSize != 16 {
		t.Fatalf("native size %d", evdev.NativeRecordSize)
	}
}

func TestNewKeyMap(t *testing.T) {
	m, err := evdev.NewKeyMap("bump10", map[string]string{"KEY_0": "", "30": "start"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m[11]; ok {
		t.Fatal("KEY_0 not removed")
	}
	if m[30].Key != wire.KeyStart || m[2].Position != 1 {
		t.Fatalf("map %+v", m)
	}
	for _, bad := range []map[string]string{{"KEY_NOPE": "bump"}, {"KEY_1": "explode"}, {"99999": "bump"}} {
		if _, err := evdev.NewKeyMap("", bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if _, err := evdev.NewKeyMap("qwerty", nil); err == nil {
		t.Error("unknown preset accepted")
	}
}

// FuzzDecoder: any byte stream, in any split, yields the same records.
func FuzzDecoder(f *testing.F) {
	f.Add(keyStroke(24, 11), uint8(5), true)
	f.Add(keyStroke(16, 4), uint8(17), false)
	f.Fuzz(func(t *testing.T, b []byte, split uint8, wide bool) {
		size := 16
		if wide {
			size = 24
		}
		a, _ := evdev.NewDecoder(size)
		whole := a.Write(b)
		c, _ := evdev.NewDecoder(size)
		i := int(split) % (len(b) + 1)
		parts := append(c.Write(b[:i]), c.Write(b[i:])...)
		if len(whole) != len(b)/size || len(parts) != len(whole) {
			t.Fatalf("%d bytes: %d records whole, %d split", len(b), len(whole), len(parts))
		}
		for k := range whole {
			if whole[k] != parts[k] {
				t.Fatalf("record %d differs", k)
			}
		}
	})
}
