package passboard_test

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/passline/passline/agent/mqtt"
	"github.com/passline/passline/agent/passboard"
	"github.com/passline/passline/wire"
)

func TestDeviceWatcherSeesRetainedAndLiveStatus(t *testing.T) {
	b := &mqtt.Broker{Listen: "127.0.0.1:0"}
	if err := b.Run(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	deviceWatcher(t, b.URL(), "s1")
}

// TestDeviceWatcherRealMosquitto runs the same against the broker named by
// PASSLINE_TEST_MQTT, with a unique store and its retained topics cleared.
func TestDeviceWatcherRealMosquitto(t *testing.T) {
	url := os.Getenv("PASSLINE_TEST_MQTT")
	if url == "" {
		t.Skip("PASSLINE_TEST_MQTT not set: skipping the real-Mosquitto run")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	deviceWatcher(t, url, "board-"+hex.EncodeToString(b))
}

func deviceWatcher(t *testing.T, url, store string) {
	pub := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(store + "-pub"))
	if tok := pub.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	t.Cleanup(func() { pub.Disconnect(100) })
	status := func(dev wire.Device, id string, online bool, detail string, at time.Time) {
		t.Helper()
		e := wire.Event{ID: id + at.String(), Kind: wire.EventStatus, Store: store, DeviceID: id, At: at,
			Status: &wire.DeviceStatus{Online: online, Detail: detail}}
		p, err := e.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		topic := wire.StatusTopic(store, dev, id)
		if tok := pub.Publish(topic, 1, true, p); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
			t.Fatal(tok.Error())
		}
		t.Cleanup(func() { pub.Publish(topic, 1, true, []byte{}).WaitTimeout(5 * time.Second) }) // clear the retained message
	}
	now := time.Now().UTC()
	status(wire.DeviceBridge, "bridge", true, "", now) // retained before the watcher starts
	status(wire.DeviceBridge, "bridge-9", true, "", now)
	_ = pub.Publish("passline/v1/other/bridge/x/status", 1, true, "{}") // another store: ignored

	w := &passboard.DeviceWatcher{URL: url, ClientID: store + "-board", Store: store}
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)
	waitDevices(t, w, func(ds []passboard.Device) bool { return len(ds) == 2 && ds[0].ID == "bridge" && ds[0].Online })

	status(wire.DeviceScale, "scale-1", false, "no data for 10s", now.Add(time.Second))
	status(wire.DeviceBridge, "bridge-9", false, "lost", now.Add(time.Second))
	waitDevices(t, w, func(ds []passboard.Device) bool {
		return len(ds) == 3 && !ds[1].Online && ds[1].Detail == "lost" && ds[2].ID == "scale-1" && !ds[2].Online
	})
}

func waitDevices(t *testing.T, w *passboard.DeviceWatcher, ok func([]passboard.Device) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok(w.Devices()) {
		if time.Now().After(deadline) {
			t.Fatalf("devices = %+v", w.Devices())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
