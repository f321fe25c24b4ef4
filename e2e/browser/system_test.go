package browser_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/nats-io/nats.go"

	agentapp "github.com/passline/passline/agent/app"
	agentconfig "github.com/passline/passline/agent/config"
	cloudapp "github.com/passline/passline/cloud/app"
	cloudconfig "github.com/passline/passline/cloud/config"
	"github.com/passline/passline/wire"
)

// system is a cloud (embedded NATS) and one store's agent (embedded MQTT)
// on random ports, as the e2e tests run them.
type system struct {
	store string
	cloud *cloudapp.Main
	agent *agentapp.Main
	nc    *nats.Conn
	mqtt  paho.Client
}

func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(discard{}, &slog.HandlerOptions{Level: slog.LevelError}))
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

func startSystem(t *testing.T) *system {
	t.Helper()
	s := &system{store: uniqueID("board")}
	cc := cloudconfig.DefaultConfig()
	cc.DataDir, cc.HTTP.Listen, cc.LogLevel = t.TempDir(), "127.0.0.1:0", "error"
	cc.NATS.Embedded = cloudconfig.Embedded{Enabled: true, Listen: "127.0.0.1:0"}
	cc.Auth.InsecureDev = true
	cc.Ops.SampleEvery, cc.Ops.KPIEvery = 500*time.Millisecond, 500*time.Millisecond // the ops page's plots fill in seconds
	s.cloud = cloudapp.NewMain()
	s.cloud.Config, s.cloud.Logger = cc, quiet()
	// Not a timeout context: agent.Main's writer and uplink run on Run's
	// context and stop when it is cancelled.
	ctx := context.Background()
	if err := s.cloud.Run(ctx); err != nil {
		t.Fatalf("cloud: %v", err)
	}
	t.Cleanup(func() { _ = s.cloud.Close() })

	ac := agentconfig.DefaultConfig()
	ac.Store, ac.MQTT.ClientID, ac.DataDir = s.store, s.store+"-agent", t.TempDir()
	ac.HTTP.Listen, ac.LogLevel, ac.NATS.URL = "127.0.0.1:0", "error", s.cloud.NATSURL()
	ac.MQTT.Embedded = agentconfig.Embedded{Enabled: true, Listen: "127.0.0.1:0"}
	s.agent = agentapp.NewMain()
	s.agent.Config, s.agent.Log = ac, quiet()
	s.agent.KPIEvery = 500 * time.Millisecond // the board's rider wait from the cloud
	if err := s.agent.Run(ctx); err != nil {
		t.Fatalf("agent: %v", err)
	}
	t.Cleanup(func() { _ = s.agent.Close() })
	waitUntil(t, 20*time.Second, "agent subscribed to MQTT", s.agent.MQTTConnected)

	nc, err := nats.Connect(s.cloud.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	s.nc = nc
	opts := paho.NewClientOptions().AddBroker(s.agent.MQTTURL()).SetClientID(uniqueID("pub")).SetCleanSession(true)
	s.mqtt = paho.NewClient(opts)
	if tok := s.mqtt.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("mqtt connect: %v", tok.Error())
	}
	t.Cleanup(func() { s.mqtt.Disconnect(100) })
	return s
}

// ticket prints an order's ticket; it returns once the broker has it.
func (s *system) ticket(t *testing.T, order, code, station string, items ...wire.Item) {
	t.Helper()
	if len(items) == 0 {
		items = []wire.Item{{SKU: "noodles", Name: "Dan dan noodles", Qty: 1, Station: station}}
	}
	s.publish(t, wire.DevicePrinter, "printer-1", wire.Event{ID: "t-" + order, Kind: wire.EventTicket, TraceID: "trace-" + order,
		Ticket: &wire.Ticket{OrderID: order, ShortCode: code, Channel: "meituan", Items: items}})
}

// bump taps the bump bar for an order.
func (s *system) bump(t *testing.T, order, station string) {
	t.Helper()
	s.publish(t, wire.DeviceBumpBar, "bar-1", wire.Event{ID: "b-" + order, Kind: wire.EventKey,
		Key: &wire.Key{Action: wire.KeyBump, OrderID: order, Station: station}})
}

func (s *system) publish(t *testing.T, dev wire.Device, id string, e wire.Event) {
	t.Helper()
	e.Store, e.DeviceID, e.At = s.store, id, time.Now().UTC()
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	topic := wire.Topic{Store: s.store, Device: dev, DeviceID: id, Event: e.Kind}.String()
	if tok := s.mqtt.Publish(topic, 1, false, b); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// status publishes a device's retained health report.
func (s *system) status(t *testing.T, dev wire.Device, id string, online bool, detail string) {
	t.Helper()
	e := wire.Event{ID: uniqueID("st"), Kind: wire.EventStatus, Store: s.store, DeviceID: id, At: time.Now().UTC(),
		Status: &wire.DeviceStatus{Online: online, Detail: detail}}
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if tok := s.mqtt.Publish(wire.StatusTopic(s.store, dev, id), 1, true, b); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish status: %v", tok.Error())
	}
}

// assign tells the relay which rider carries the order.
func (s *system) assign(t *testing.T, order, rider string) {
	t.Helper()
	b, err := wire.Assignment{Store: s.store, OrderID: order, Rider: rider, Locale: "en", At: time.Now()}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.nc.Publish(wire.AssignSubject(s.store), b); err != nil {
		t.Fatal(err)
	}
	if err := s.nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func uniqueID(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}
