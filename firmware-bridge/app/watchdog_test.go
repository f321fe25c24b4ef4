package app_test

import (
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/passline/passline/firmware-bridge/app"
	"github.com/passline/passline/internal/service"
)

var _ service.Checker = (*app.Main)(nil)

// Alive holds while the bridge runs, also while its broker is away and
// paho keeps retrying (the events queued meanwhile must not be lost to a
// watchdog restart); it fails before Run.
func TestBridgeAliveThroughBrokerOutage(t *testing.T) {
	s, url := startBroker(t)
	m := newMain(simConfig(randomStore(t), url))
	if err := m.Alive(); err == nil {
		t.Fatal("alive before Run")
	}
	startMain(t, m)
	if err := m.Alive(); err != nil {
		t.Fatalf("running: %v", err)
	}
	// The broker goes away: its port refuses, its clients are cut (not
	// s.Close, which startBroker's cleanup calls).
	l, _ := s.Listeners.Get("t")
	l.Close(func(string) {})
	for _, cl := range s.Clients.GetAll() {
		_ = s.DisconnectClient(cl, packets.ErrServerShuttingDown)
	}
	deadline := time.Now().Add(10 * time.Second)
	for m.MQTT.Connected() {
		if time.Now().After(deadline) {
			t.Fatal("still connected 10 s after the broker closed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if err := m.Alive(); err != nil {
			t.Fatalf("broker away, paho retrying: %v", err)
		}
	}
}
