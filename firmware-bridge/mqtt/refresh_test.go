package mqtt_test

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	bridge "github.com/passline/passline/firmware-bridge"
	"github.com/passline/passline/firmware-bridge/mqtt"
	"github.com/passline/passline/internal/mqttlisten"
	"github.com/passline/passline/wire"
)

type connectHook struct {
	mochi.HookBase
	mu    sync.Mutex
	wills [][]byte
}

func (h *connectHook) ID() string           { return "connects" }
func (h *connectHook) Provides(b byte) bool { return b == mochi.OnConnect }
func (h *connectHook) OnConnect(cl *mochi.Client, pk packets.Packet) error {
	if cl.ID == "s1-bridge" {
		h.mu.Lock()
		h.wills = append(h.wills, pk.Connect.WillPayload)
		h.mu.Unlock()
	}
	return nil
}

// The client renews its connection to restamp its last will; the broker
// never fires the old will (the bridge never looks offline), and events
// keep flowing across the renewals.
func TestWillRefresh(t *testing.T) {
	h := &connectHook{}
	s, addr := broker(t, "127.0.0.1:0", h)
	defer mqttlisten.Shutdown(s)
	var mu sync.Mutex
	var offline, keys int
	w := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("watcher"))
	if tok := w.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer w.Disconnect(100)
	w.Subscribe(wire.StoreFilter("s1"), 1, func(_ paho.Client, m paho.Message) {
		_, ev, err := wire.DecodeEventOn(m.Topic(), m.Payload())
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil:
		case ev.Kind == wire.EventStatus && !ev.Status.Online:
			offline++
		case ev.Kind == wire.EventKey:
			keys++
		}
	}).WaitTimeout(5 * time.Second)

	c := mqtt.New(mqtt.Options{
		URL: "tcp://" + addr, ClientID: "s1-bridge", Store: "s1", DeviceID: "bridge",
		KeepAlive: 5 * time.Second, ConnectTimeout: 5 * time.Second, PublishTimeout: 5 * time.Second,
		WillRefresh: 150 * time.Millisecond,
		Logger:      slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	sent := 0
	deadline := time.Now().Add(20 * time.Second)
	for {
		h.mu.Lock()
		n := len(h.wills)
		h.mu.Unlock()
		if n >= 3 && sent >= 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connects, %d events sent in 20 s", n, sent)
		}
		ev := bridge.Action{Key: wire.KeyBump}.Event("s1", "bumpbar-1", "", 0, time.Now())
		if err := c.Publish(wire.DeviceBumpBar, ev); err == nil {
			sent++
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Stop refreshing (Close) before counting; Close marks offline itself,
	// so count offline statuses first.
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	gotOffline := offline
	mu.Unlock()
	if gotOffline != 0 {
		t.Fatalf("the broker published %d offline statuses during renewals", gotOffline)
	}
	_ = c.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[string]bool{}
	for _, wb := range h.wills {
		ev, err := wire.DecodeEvent(wb)
		if err != nil || ev.Status == nil || ev.Status.Online {
			t.Fatalf("will %s: %v", wb, err)
		}
		seen[ev.ID] = true
	}
	if len(seen) != len(h.wills) {
		t.Fatalf("wills not restamped: %d connects, %d distinct wills", len(h.wills), len(seen))
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		k := keys
		mu.Unlock()
		if k >= sent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("watcher got %d of %d events", k, sent)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
