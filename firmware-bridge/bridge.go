// Package bridge holds the firmware-bridge's domain: the seam between
// device drivers and the broker they publish to. Each driver lives in a
// subpackage named after the technology it reads (escpos, scale, evdev,
// gpio, sim); the MQTT publisher is package mqtt; the program is wired in
// firmware-bridge/app and started by firmware-bridge/cmd/passline-bridge.
//
// Drivers build wire.Event values and hand them to a Publisher. They never
// know about MQTT topics: the Publisher derives the topic from the device
// kind and the event (store, device id, kind).
package bridge

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/passline/passline/wire"
)

// Publisher sends one device event to the agent. Implementations must be
// safe for concurrent use by several drivers. An error means the event may
// not reach the broker; drivers log it and carry on, they never stop
// reading their device because the broker is away.
type Publisher interface {
	Publish(dev wire.Device, ev wire.Event) error
}

// ErrQueued is returned (wrapped) by a Publisher whose broker is away: the
// event waits in memory and goes out on reconnect, unless the bridge stops
// first. Drivers treat it as "not yet delivered", not as a failure to log
// loudly.
var ErrQueued = errors.New("broker unreachable: event queued in memory until reconnect")

var _ Publisher = PublisherFunc(nil)

// PublisherFunc adapts a function to the Publisher interface.
type PublisherFunc func(dev wire.Device, ev wire.Event) error

// Publish calls f.
func (f PublisherFunc) Publish(dev wire.Device, ev wire.Event) error { return f(dev, ev) }

// NewEventID returns an id unique across restarts and devices:
// {device_id}-{unix ms in base 36}-{8 random hex digits}. It stays within
// wire.MaxTextLen for any valid device id.
func NewEventID(deviceID string, now time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return deviceID + "-" + strconv.FormatInt(now.UnixMilli(), 36) + "-" + hex.EncodeToString(b[:])
}

// StatusEvent builds the health event a driver publishes, retained, on
// wire.StatusTopic(store, dev, deviceID): online when its device is open,
// offline with a reason when it is lost.
func StatusEvent(store, deviceID string, online bool, detail string, now time.Time) wire.Event {
	if len(detail) > wire.MaxTextLen {
		detail = strings.ToValidUTF8(detail[:wire.MaxTextLen], "")
	}
	return wire.Event{
		ID:       NewEventID(deviceID, now),
		Kind:     wire.EventStatus,
		Store:    store,
		DeviceID: deviceID,
		At:       now,
		Status:   &wire.DeviceStatus{Online: online, Detail: detail},
	}
}

// Health publishes a driver's online/offline status, only when it changes,
// so a reconnect loop that fails every second does not flood the broker.
// The zero value is not usable: set every field but the unexported ones.
type Health struct {
	Pub      Publisher
	Device   wire.Device
	Store    string
	DeviceID string
	Now      func() time.Time // nil means time.Now

	mu    sync.Mutex
	known bool
	last  bool
}

// Set records the device's state and publishes it when it differs from the
// last state published. A failed publish is retried on the next Set.
func (h *Health) Set(online bool, detail string) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.known && h.last == online {
		return nil
	}
	now := time.Now
	if h.Now != nil {
		now = h.Now
	}
	if err := h.Pub.Publish(h.Device, StatusEvent(h.Store, h.DeviceID, online, detail, now())); err != nil {
		return err
	}
	h.known, h.last = true, online
	return nil
}

// Action is what a bump bar key or button does, parsed from config:
// "bump", "start", "recall", "mark" or "select:N".
type Action struct {
	Key      wire.KeyAction
	Position int // for select
}

// ParseAction parses an action from config.
func ParseAction(s string) (Action, error) {
	name, pos, hasPos := strings.Cut(s, ":")
	a := Action{Key: wire.KeyAction(name)}
	if !a.Key.Valid() {
		return Action{}, fmt.Errorf("%q is not bump, start, recall, mark or select:N", s)
	}
	if a.Key == wire.KeySelect || hasPos {
		n, err := strconv.Atoi(pos)
		if a.Key != wire.KeySelect || err != nil || n < 1 || n > wire.MaxPosition {
			return Action{}, fmt.Errorf("%q: only select takes a position, 1-%d", s, wire.MaxPosition)
		}
		a.Position = n
	}
	return a, nil
}

// Event builds the key event for this action.
func (a Action) Event(store, deviceID, station string, code int, now time.Time) wire.Event {
	return wire.Event{
		ID: NewEventID(deviceID, now), Kind: wire.EventKey, Store: store, DeviceID: deviceID, At: now,
		Key: &wire.Key{Action: a.Key, Station: station, Position: a.Position, Code: code},
	}
}
