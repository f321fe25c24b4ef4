package evdev_test

import (
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/firmware-bridge/bridgetest"
	"github.com/passline/passline/firmware-bridge/evdev"
	"github.com/passline/passline/wire"
)

// TestScannerPublishesTypedCodes: a barcode scanner on a named pipe
// standing in for /dev/input/eventN types codes (capitals and symbols
// through shift, the keypad's digits, Enter or keypad Enter at the end);
// each code is one scan event on the scanner's device, and a code holding a
// key that types nothing is discarded and counted, not published.
func TestScannerPublishesTypedCodes(t *testing.T) {
	for _, size := range []int{24, 16} { // 64-bit and 32-bit arm layouts
		t.Run(map[int]string{24: "64-bit", 16: "32-bit"}[size], func(t *testing.T) {
			path, w := fifo(t)
			rec := &bridgetest.Recorder{}
			d := &evdev.Driver{Device: path, Scanner: &evdev.Scanner{Gap: time.Minute}, RecordSize: size,
				Retry: 20 * time.Millisecond, Pub: rec, Store: "s1", DeviceID: "scanner-1", Logger: quiet()}
			if err := d.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer d.Close()
			st := rec.WaitKind(t, wire.EventStatus, 1, 10*time.Second)
			if !st[0].Status.Online || rec.Events()[0].Device != wire.DeviceScanner {
				t.Fatalf("status %+v on %s", st[0].Status, rec.Events()[0].Device)
			}
			var stream []byte
			for _, code := range []string{"o-42", "Ab#23_x"} {
				b, err := evdev.Typed(size, code)
				if err != nil {
					t.Fatal(err)
				}
				stream = append(stream, b...)
			}
			stream = append(stream, keyStroke(size, 59)...) // KEY_F1: types nothing; spoils the next code
			b, _ := evdev.Typed(size, "junk")
			stream = append(stream, b...)
			for _, c := range []uint16{79, 80, 96} { // KEY_KP1, KEY_KP2, KEY_KPENTER
				stream = append(stream, evdev.Encode(size, 0, 0, 1, c, 1)...)
			}
			for i := 0; i < len(stream); i += 13 { // records split across writes
				if _, err := w.Write(stream[i:min(i+13, len(stream))]); err != nil {
					t.Fatal(err)
				}
			}
			evs := rec.WaitKind(t, wire.EventScan, 3, 10*time.Second)
			var codes []string
			for _, ev := range evs {
				if err := ev.Validate(); err != nil {
					t.Errorf("scan event invalid: %v", err)
				}
				codes = append(codes, ev.Scan.Code)
			}
			if got := strings.Join(codes, " "); got != "o-42 Ab#23_x 12" {
				t.Fatalf("codes %q, want %q", got, "o-42 Ab#23_x 12")
			}
			for _, p := range rec.Events() {
				if p.Event.Kind == wire.EventScan && p.Device != wire.DeviceScanner {
					t.Fatalf("scan published as device %s", p.Device)
				}
			}
			if published, ignored := d.Counts(); published != 3 || ignored != 1 {
				t.Fatalf("counts: published %d, discarded %d; want 3, 1", published, ignored)
			}
		})
	}
}

// TestScannerDiscardsPartialCodes: the scanner's assembly as a pure
// function of key events and their times.
func TestScannerDiscardsPartialCodes(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	type key struct {
		code uint16
		at   time.Duration
	}
	press := func(s string, at time.Duration) []key {
		var ks []key
		for _, c := range s {
			ks = append(ks, key{map[rune]uint16{'1': 2, '2': 3, '3': 4, 'a': 30, '\n': 28}[c], at})
		}
		return ks
	}
	tests := []struct {
		name string
		keys []key
		want []string // codes published, "!" for one discarded
	}{
		{"code within the gap", press("123\n", 0), []string{"123"}},
		{"a stray key long before the code is dropped", append(press("a", 0), press("12\n", 5*time.Second)...), []string{"12"}},
		{"enter alone is discarded", press("\n", 0), []string{"!"}},
		{"an overlong code is discarded whole", press(strings.Repeat("1", wire.MaxScanLen+1)+"\n", 0), []string{"!"}},
		{"exactly the longest code passes", press(strings.Repeat("2", wire.MaxScanLen)+"\n", 0), []string{strings.Repeat("2", wire.MaxScanLen)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &evdev.Scanner{Gap: time.Second}
			var got []string
			for _, k := range tt.keys {
				for _, v := range []int32{1, 0} {
					code, ok, done := s.Feed(evdev.InputEvent{Type: 1, Code: k.code, Value: v}, t0.Add(k.at))
					switch {
					case done && ok:
						got = append(got, code)
					case done:
						got = append(got, "!")
					}
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// FuzzScanner: whatever keys a device sends, every code the scanner
// finishes is a valid scan event's code: it never publishes one the agent
// would refuse as malformed.
func FuzzScanner(f *testing.F) {
	b, _ := evdev.Typed(24, "o-42")
	f.Add(b, uint8(3))
	f.Add(append(keyStroke(24, 59), b...), uint8(0))
	f.Fuzz(func(t *testing.T, stream []byte, gapMS uint8) {
		d, _ := evdev.NewDecoder(24)
		s := &evdev.Scanner{Gap: time.Duration(gapMS) * time.Millisecond}
		t0 := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
		for i, ev := range d.Write(stream) {
			code, ok, _ := s.Feed(ev, t0.Add(time.Duration(i)*time.Millisecond))
			if !ok {
				continue
			}
			sc := wire.Event{ID: "x", Kind: wire.EventScan, Store: "s1", DeviceID: "d", At: t0, Scan: &wire.Scan{Code: code}}
			if err := sc.ValidateAt(t0); err != nil {
				t.Fatalf("scanner finished code %q the agent refuses: %v", code, err)
			}
		}
	})
}
