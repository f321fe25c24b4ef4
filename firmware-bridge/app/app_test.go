package app_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/passline/passline/firmware-bridge/app"
	"github.com/passline/passline/firmware-bridge/config"
	"github.com/passline/passline/internal/mqttlisten"
	"github.com/passline/passline/wire"
)

// startBroker runs an embedded MQTT broker on a random loopback port.
func startBroker(tb testing.TB) (*mochi.Server, string) {
	tb.Helper()
	s := mochi.New(&mochi.Options{InlineClient: true, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	if err := s.AddHook(new(auth.AllowHook), nil); err != nil {
		tb.Fatal(err)
	}
	l := mqttlisten.NewTCP("t", "127.0.0.1:0", nil)
	if err := s.AddListener(l); err != nil {
		tb.Fatal(err)
	}
	go func() { _ = s.Serve() }()
	tb.Cleanup(func() { _ = mqttlisten.Shutdown(s) })
	return s, "tcp://" + l.Address()
}

// received collects events seen on a store's topics.
type received struct {
	mu     sync.Mutex
	events []wire.Event
	errs   []error
}

func (r *received) add(topic string, payload []byte) {
	_, ev, err := wire.DecodeEventOn(topic, payload)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.errs = append(r.errs, err)
		return
	}
	r.events = append(r.events, ev)
}

// wait polls until pred holds over the events, or fails after timeout.
func (r *received) wait(tb testing.TB, what string, timeout time.Duration, pred func([]wire.Event) bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		r.mu.Lock()
		evs, errs := append([]wire.Event(nil), r.events...), append([]error(nil), r.errs...)
		r.mu.Unlock()
		if len(errs) > 0 {
			tb.Fatalf("bridge published an invalid event: %v", errs[0])
		}
		if pred(evs) {
			return
		}
		if time.Now().After(deadline) {
			for _, e := range evs {
				tb.Logf("%s %s %s %+v", e.At.Format("15:04:05.000"), e.Kind, e.DeviceID, e.Status)
			}
			tb.Fatalf("waited %s for %s; got %d events", timeout, what, len(evs))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func has(kind wire.EventKind, dev string, online *bool) func([]wire.Event) bool {
	return func(evs []wire.Event) bool {
		for _, e := range evs {
			if e.Kind == kind && (dev == "" || e.DeviceID == dev) && (online == nil || e.Status.Online == *online) {
				return true
			}
		}
		return false
	}
}

func randomStore(tb testing.TB) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "t-" + hex.EncodeToString(b[:])
}

func simConfig(store, url string) config.Config {
	cfg := config.DefaultConfig()
	cfg.Store, cfg.MQTT.URL = store, url
	cfg.Sim.Enabled, cfg.Sim.Tick = true, 20*time.Millisecond
	cfg.Sim.Kitchen.Speed, cfg.Sim.Kitchen.OrdersPerMinute, cfg.Sim.Kitchen.Peaks = 300, 0.3, false
	return cfg
}

func newMain(cfg config.Config) *app.Main {
	m := app.NewMain()
	m.Config = cfg
	m.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	return m
}

func runMain(tb testing.TB, cfg config.Config) *app.Main {
	tb.Helper()
	return startMain(tb, newMain(cfg))
}

func startMain(tb testing.TB, m *app.Main) *app.Main {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = m.Close() })
	return m
}

var yes, no = true, false

// subscribe watches every event of a store with a plain paho client.
func subscribe(tb testing.TB, url, store string) *received {
	tb.Helper()
	r := &received{}
	o := paho.NewClientOptions().AddBroker(url).SetClientID(store + "-watcher").SetConnectTimeout(10 * time.Second)
	c := paho.NewClient(o)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		tb.Fatalf("watcher connect to %s: %v", url, tok.Error())
	}
	tb.Cleanup(func() { c.Disconnect(100) })
	tok := c.Subscribe(wire.StoreFilter(store), 1, func(_ paho.Client, m paho.Message) { r.add(m.Topic(), m.Payload()) })
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		tb.Fatalf("subscribe: %v", tok.Error())
	}
	return r
}

// The sim driver publishes tickets, bumps and weights through the real
// program, on the wire topics, each a valid event; the bridge's status is
// online while it runs and offline after Close.
func TestBridgeSimPublishesOverMQTT(t *testing.T) {
	_, url := startBroker(t)
	testSimOverMQTT(t, url)
}

// The same against the machine's real Mosquitto, when PASSLINE_TEST_MQTT is set.
func TestBridgeSimPublishesOverRealMosquitto(t *testing.T) {
	url := os.Getenv("PASSLINE_TEST_MQTT")
	if url == "" {
		t.Skip("PASSLINE_TEST_MQTT is not set (e.g. tcp://127.0.0.1:1883): skipping the real-broker run")
	}
	testSimOverMQTT(t, url)
}

func testSimOverMQTT(t *testing.T, url string) {
	store := randomStore(t)
	r := subscribe(t, url, store)
	m := runMain(t, simConfig(store, url))
	r.wait(t, "bridge online", 10*time.Second, has(wire.EventStatus, "bridge", &yes))
	r.wait(t, "printer online", 10*time.Second, has(wire.EventStatus, "printer-1", &yes))
	r.wait(t, "a ticket", 10*time.Second, has(wire.EventTicket, "", nil))
	r.wait(t, "a bump", 20*time.Second, has(wire.EventKey, "", nil))
	r.wait(t, "a weight", 20*time.Second, has(wire.EventWeight, "", nil))
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	r.wait(t, "bridge offline", 10*time.Second, has(wire.EventStatus, "bridge", &no))
	r.wait(t, "scale offline", 10*time.Second, has(wire.EventStatus, "scale-1", &no))
	cleanRetained(t, url, store)
}

// cleanRetained removes the retained status messages a test left on a
// shared broker, and the bridge's persistent session (a clean-session
// connect with its client id ends it).
func cleanRetained(tb testing.TB, url, store string) {
	s := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(store + "-bridge").SetCleanSession(true))
	if tok := s.Connect(); tok.WaitTimeout(5*time.Second) && tok.Error() == nil {
		s.Disconnect(100)
	}
	c := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(store + "-cleaner"))
	if tok := c.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		return
	}
	defer c.Disconnect(100)
	for _, d := range []struct {
		dev wire.Device
		id  string
	}{{wire.DeviceBridge, "bridge"}, {wire.DevicePrinter, "printer-1"}, {wire.DeviceBumpBar, "bumpbar-1"}, {wire.DeviceScale, "scale-1"}} {
		c.Publish(wire.StatusTopic(store, d.dev, d.id), 1, true, []byte{}).WaitTimeout(2 * time.Second)
	}
}

// willHook records the last will each client registers on CONNECT.
type willHook struct {
	mochi.HookBase
	mu    sync.Mutex
	wills map[string]packets.ConnectParams
}

func (h *willHook) ID() string { return "will-recorder" }
func (h *willHook) Provides(b byte) bool {
	return b == mochi.OnConnect
}
func (h *willHook) OnConnect(cl *mochi.Client, pk packets.Packet) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.wills[cl.ID] = pk.Connect
	return nil
}

// The bridge registers a last will with the broker: a retained QoS 1
// "offline" status on its status topic, so the agent learns of a dead
// bridge (power cut, cable pulled) without a clean disconnect.
func TestBridgeLastWill(t *testing.T) {
	broker, url := startBroker(t)
	h := &willHook{wills: map[string]packets.ConnectParams{}}
	if err := broker.AddHook(h, nil); err != nil {
		t.Fatal(err)
	}
	store := randomStore(t)
	cfg := simConfig(store, url)
	runMain(t, cfg)
	h.mu.Lock()
	will, ok := h.wills[cfg.ClientID()]
	h.mu.Unlock()
	if !ok || !will.WillFlag {
		t.Fatalf("client %s connected without a will: %+v", cfg.ClientID(), will)
	}
	if will.WillTopic != wire.StatusTopic(store, wire.DeviceBridge, "bridge") || !will.WillRetain || will.WillQos != 1 {
		t.Fatalf("will on %q retain %v qos %d", will.WillTopic, will.WillRetain, will.WillQos)
	}
	_, ev, err := wire.DecodeEventOn(will.WillTopic, will.WillPayload)
	if err != nil || ev.Status == nil || ev.Status.Online {
		t.Fatalf("will payload %s: %v", will.WillPayload, err)
	}
}
