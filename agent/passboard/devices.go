package passboard

import (
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/passline/passline/wire"
)

// DeviceWatcher keeps every device's last health report for the board. It
// subscribes, on its own clean MQTT session, to the store's retained status
// topics (passline/v1/{store}/+/+/status), so it learns the current state
// of every device at once and each change as it happens. Nothing it sees
// is acked to or stored by the agent: it is a view, not an input.
type DeviceWatcher struct {
	URL, ClientID, Username, Password string
	Store                             string
	Log                               *slog.Logger

	mu      sync.Mutex
	devices map[string]Device
	client  paho.Client
}

// Start connects in the background (retrying until Close) and subscribes
// on every connect.
func (w *DeviceWatcher) Start() error {
	if !wire.ValidToken(w.Store) {
		return fmt.Errorf("device watcher: store %q is not a token", w.Store)
	}
	filter := wire.TopicRoot + "/" + w.Store + "/+/+/" + string(wire.EventStatus)
	opts := paho.NewClientOptions().AddBroker(w.URL).SetClientID(w.ClientID).
		SetUsername(w.Username).SetPassword(w.Password).SetCleanSession(true).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(10 * time.Second).SetKeepAlive(30 * time.Second)
	opts.SetDefaultPublishHandler(w.handle)
	opts.SetOnConnectHandler(func(c paho.Client) {
		c.Subscribe(filter, 0, w.handle) // not waited on: a handler must not block
	})
	w.client = paho.NewClient(opts)
	w.client.Connect() // with ConnectRetry the token completes only once connected
	return nil
}

// handle records a status event; it only takes a mutex.
func (w *DeviceWatcher) handle(_ paho.Client, m paho.Message) {
	_, e, err := wire.DecodeEventOn(m.Topic(), m.Payload())
	if err != nil || e.Status == nil {
		if w.Log != nil {
			w.Log.Debug("device status not understood", "topic", m.Topic(), "err", err)
		}
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.devices == nil {
		w.devices = map[string]Device{}
	}
	if old, ok := w.devices[e.DeviceID]; ok && old.At.After(e.At) {
		return // an older report arriving late
	}
	w.devices[e.DeviceID] = Device{ID: e.DeviceID, Online: e.Status.Online, Detail: e.Status.Detail, At: e.At}
}

// Devices lists the devices seen, by id; empty (not nil) before any report.
func (w *DeviceWatcher) Devices() []Device {
	w.mu.Lock()
	out := make([]Device, 0, len(w.devices))
	for _, d := range w.devices {
		out = append(out, d)
	}
	w.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Close disconnects, waiting up to 250 ms for the broker.
func (w *DeviceWatcher) Close() {
	if w.client != nil {
		w.client.Disconnect(250)
	}
}
