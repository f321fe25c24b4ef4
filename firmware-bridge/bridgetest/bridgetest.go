// Package bridgetest provides a recording bridge.Publisher and a network
// printer for tests of drivers and of the bridge program.
package bridgetest

import (
	"net"
	"sync"
	"testing"
	"time"

	bridge "github.com/passline/passline/firmware-bridge"
	"github.com/passline/passline/wire"
)

// Published is one event a Recorder received.
type Published struct {
	Device wire.Device
	Event  wire.Event
}

var _ bridge.Publisher = (*Recorder)(nil)

// Recorder is a bridge.Publisher that validates and keeps every event. Err,
// when set, is returned by Publish (the event is then not kept).
type Recorder struct {
	mu     sync.Mutex
	events []Published
	Err    error
}

// Publish validates ev as the real publisher would (by marshaling it) and
// records it.
func (r *Recorder) Publish(dev wire.Device, ev wire.Event) error {
	if _, err := ev.Marshal(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.Err != nil {
		return r.Err
	}
	r.events = append(r.events, Published{Device: dev, Event: ev})
	return nil
}

// Events returns a copy of what was recorded so far.
func (r *Recorder) Events() []Published {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Published(nil), r.events...)
}

// Kind returns the recorded events of one kind.
func (r *Recorder) Kind(k wire.EventKind) []wire.Event {
	var out []wire.Event
	for _, p := range r.Events() {
		if p.Event.Kind == k {
			out = append(out, p.Event)
		}
	}
	return out
}

// WaitKind polls until at least n events of kind k were recorded or the
// timeout passes, then returns them; it fails the test on timeout.
func (r *Recorder) WaitKind(tb testing.TB, k wire.EventKind, n int, timeout time.Duration) []wire.Event {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		evs := r.Kind(k)
		if len(evs) >= n {
			return evs
		}
		if time.Now().After(deadline) {
			tb.Fatalf("waited %s for %d %s events, got %d: %+v", timeout, n, k, len(evs), r.Events())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Printer is a network printer on a random loopback port (a shop's printer
// listens on TCP 9100): it runs job on each connection it accepts and then
// closes the connection. It returns the printer's host:port; the listener
// closes in cleanup.
func Printer(tb testing.TB, job func(net.Conn)) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	Serve(tb, ln, job)
	return ln.Addr().String()
}

// Serve is Printer on a listener of the test's own (an address it must
// reuse, say): it runs job on each connection ln accepts until ln closes,
// in cleanup at the latest.
func Serve(tb testing.TB, ln net.Listener, job func(net.Conn)) {
	tb.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				job(c)
			}()
		}
	}()
}
