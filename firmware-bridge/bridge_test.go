package bridge_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	bridge "github.com/passline/passline/firmware-bridge"
	"github.com/passline/passline/firmware-bridge/bridgetest"
	"github.com/passline/passline/wire"
)

func TestParseAction(t *testing.T) {
	for in, want := range map[string]bridge.Action{
		"bump": {Key: wire.KeyBump}, "start": {Key: wire.KeyStart}, "recall": {Key: wire.KeyRecall},
		"select:3": {Key: wire.KeySelect, Position: 3},
	} {
		got, err := bridge.ParseAction(in)
		if err != nil || got != want {
			t.Errorf("%q: %+v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "select", "select:0", "select:100", "bump:2", "explode", "select:x"} {
		if _, err := bridge.ParseAction(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestEventsAreValid(t *testing.T) {
	now := time.Now()
	long := strings.Repeat("é", 300) // 600 bytes, cut inside a rune would be invalid UTF-8
	for _, ev := range []wire.Event{
		bridge.StatusEvent("s1", "printer-1", false, long, now),
		bridge.Action{Key: wire.KeySelect, Position: 2}.Event("s1", "bumpbar-1", "wok", 4, now),
	} {
		if _, err := ev.Marshal(); err != nil {
			t.Fatalf("%s event invalid: %v", ev.Kind, err)
		}
		if ev.Status != nil && (!utf8.ValidString(ev.Status.Detail) || len(ev.Status.Detail) > wire.MaxTextLen) {
			t.Fatalf("detail not cut cleanly: %d bytes", len(ev.Status.Detail))
		}
	}
	a, b := bridge.NewEventID("printer-1", now), bridge.NewEventID("printer-1", now)
	if a == b || !strings.HasPrefix(a, "printer-1-") {
		t.Fatalf("ids %q %q", a, b)
	}
}

// Health publishes only changes, and retries a change whose publish failed.
func TestHealthPublishesChangesOnly(t *testing.T) {
	rec := &bridgetest.Recorder{}
	h := &bridge.Health{Pub: rec, Device: wire.DeviceScale, Store: "s1", DeviceID: "scale-1"}
	steps := []struct {
		online bool
		fail   bool
	}{{true, false}, {true, false}, {false, true}, {false, false}, {false, false}, {true, false}}
	for _, s := range steps {
		rec.Err = nil
		if s.fail {
			rec.Err = errors.New("broker away")
		}
		err := h.Set(s.online, "")
		if (err != nil) != s.fail {
			t.Fatalf("Set(%v): %v", s.online, err)
		}
	}
	var got []bool
	for _, e := range rec.Kind(wire.EventStatus) {
		got = append(got, e.Status.Online)
	}
	if len(got) != 3 || !got[0] || got[1] || !got[2] {
		t.Fatalf("published %v, want [true false true]", got)
	}
}
