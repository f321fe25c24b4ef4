// Package e2e_test runs Passline's three programs together, through the
// same Main types their binaries use: a bump-bar tap published over MQTT
// must reach the rider's NATS subject as a notification.
package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	agentapp "github.com/passline/passline/agent/app"
	agentconfig "github.com/passline/passline/agent/config"
	cloudapp "github.com/passline/passline/cloud/app"
	cloudconfig "github.com/passline/passline/cloud/config"
	"github.com/passline/passline/cloud/relaytest"
	bridgeapp "github.com/passline/passline/firmware-bridge/app"
	bridgeconfig "github.com/passline/passline/firmware-bridge/config"
	"github.com/passline/passline/wire"
)

// TestBumpReachesRider runs cloud (embedded NATS) and agent (embedded MQTT)
// on random ports.
func TestBumpReachesRider(t *testing.T) {
	store := uniqueID("e2e")
	cloud := startCloud(t, cloudConfig(t, ""))
	agent := startAgent(t, agentConfig(t, store, "", cloud.NATSURL()))
	bumpReachesRider(t, store, agent.MQTTURL(), cloud.NATSURL(), agent)
}

// TestBumpReachesRiderRealBrokers is the same test against the machine's
// real Mosquitto and nats-server, named by PASSLINE_TEST_MQTT and
// PASSLINE_TEST_NATS. When PASSLINE_TEST_NATS is unset or names a
// nats-server the relay refuses (older than natsjs.MinServer), the relay
// runs on an embedded NATS server instead, and says so, so the real
// Mosquitto is still exercised end to end.
func TestBumpReachesRiderRealBrokers(t *testing.T) {
	mqttURL, natsURL := os.Getenv("PASSLINE_TEST_MQTT"), os.Getenv("PASSLINE_TEST_NATS")
	if mqttURL == "" {
		t.Skip("PASSLINE_TEST_MQTT not set: skipping the real-broker run")
	}
	switch err := realNATS(t, natsURL); {
	case natsURL == "":
		t.Logf("PASSLINE_TEST_NATS not set: the real Mosquitto at %s with an embedded NATS server", mqttURL)
	case err != nil:
		t.Logf("the real Mosquitto at %s with an embedded NATS server, not the real one: %v", mqttURL, err)
		natsURL = ""
	}
	store := uniqueID("e2e")
	cc := cloudConfig(t, natsURL)
	if natsURL != "" {
		cc.Consumer.Durable = uniqueID("e2e-relay")
		t.Cleanup(func() { cleanRealNATS(t, natsURL, store, cc.Consumer.Durable) })
	}
	cloud := startCloud(t, cc)
	agent := startAgent(t, agentConfig(t, store, mqttURL, cloud.NATSURL()))
	bumpReachesRider(t, store, mqttURL, cloud.NATSURL(), agent)
}

// realNATS is nil when the relay runs on the nats-server at url (or url is
// empty), else why not (relaytest.ServerTooOld).
func realNATS(t *testing.T, url string) error {
	if url == "" {
		return nil
	}
	return relaytest.ServerTooOld(t, url)
}

// bumpReachesRider assigns a rider, prints a ticket and taps the bump bar,
// then waits for the rider's ready notification.
func bumpReachesRider(t *testing.T, store, mqttURL, natsURL string, agent *agentapp.Main) {
	t.Helper()
	order, rider := "o-"+uniqueID("")[:8], uniqueID("rider")
	nc, err := nats.Connect(natsURL)
	if err != nil {
		t.Fatalf("connect %s: %v", natsURL, err)
	}
	t.Cleanup(nc.Close)
	notes := make(chan *nats.Msg, 16)
	if _, err := nc.ChanSubscribe(wire.RiderFilter(rider), notes); err != nil {
		t.Fatal(err)
	}
	assign, err := wire.Assignment{Store: store, OrderID: order, Rider: rider, At: time.Now()}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish(wire.AssignSubject(store), assign); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}

	// A broker keeps messages for the agent's session only once it has
	// subscribed: wait for that before the kitchen publishes.
	waitUntil(t, 20*time.Second, "agent subscribed to MQTT", agent.MQTTConnected)
	pub := mqttClient(t, mqttURL)
	now := time.Now().UTC()
	publishTicket(t, pub, store, order, now)
	publishBump(t, pub, store, order, now.Add(90*time.Second))

	deadline := time.After(20 * time.Second)
	for {
		select {
		case m := <-notes:
			n, err := wire.DecodeNotification(m.Data)
			if err != nil {
				t.Fatalf("rider got an invalid notification: %v: %s", err, m.Data)
			}
			if n.Kind != wire.KindReady {
				continue // ready_soon or eta from the model may come first
			}
			if n.OrderID != order || n.Store != store || n.Rider != rider || n.Text == "" {
				t.Fatalf("notification = %+v, want ready for %s/%s to %s", n, store, order, rider)
			}
			return
		case <-deadline:
			st, err := agent.Status()
			t.Logf("agent status: %+v (err %v)", st, err)
			t.Fatalf("no ready notification for order %s on %s within 20s", order, wire.RiderFilter(rider))
		}
	}
}

func cloudConfig(t *testing.T, natsURL string) cloudconfig.Config {
	c := cloudconfig.DefaultConfig()
	c.DataDir = t.TempDir()
	c.HTTP.Listen = "127.0.0.1:0"
	c.LogLevel = "warn"
	c.Auth.InsecureDev = true
	if natsURL == "" {
		c.NATS.Embedded = cloudconfig.Embedded{Enabled: true, Listen: "127.0.0.1:0"}
	} else {
		c.NATS.URL = natsURL
	}
	return c
}

func agentConfig(t *testing.T, store, mqttURL, natsURL string) agentconfig.Config {
	c := agentconfig.DefaultConfig()
	c.Store = store
	c.MQTT.ClientID = store + "-agent"
	c.DataDir = t.TempDir()
	c.HTTP.Listen = "127.0.0.1:0"
	c.LogLevel = "warn"
	c.NATS.URL = natsURL
	if mqttURL == "" {
		c.MQTT.Embedded = agentconfig.Embedded{Enabled: true, Listen: "127.0.0.1:0"}
	} else {
		c.MQTT.URL = mqttURL
	}
	return c
}

func startCloud(t *testing.T, c cloudconfig.Config) *cloudapp.Main {
	t.Helper()
	m := cloudapp.NewMain()
	m.Config = c
	// ctx is the program's lifetime, as in main: cancelled at cleanup.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := m.Run(ctx); err != nil {
		t.Fatalf("cloud: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close cloud: %v", err)
		}
	})
	return m
}

func startAgent(t *testing.T, c agentconfig.Config) *agentapp.Main {
	t.Helper()
	m := agentapp.NewMain()
	m.Config = c
	// ctx is the program's lifetime, as in main: cancelled at cleanup.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := m.Run(ctx); err != nil {
		t.Fatalf("agent: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close agent: %v", err)
		}
	})
	return m
}

// subscribe connects to url with opts and collects every message on
// subject, for the test's lifetime.
func subscribe(t *testing.T, url, subject string, opts ...nats.Option) <-chan *nats.Msg {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatalf("connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	msgs := make(chan *nats.Msg, 1024)
	if _, err := nc.ChanSubscribe(subject, msgs); err != nil {
		t.Fatal(err)
	}
	return msgs
}

// shippedCloud loads configs/{set}/cloud.yaml as shipped, moved onto a
// temp dir and random loopback ports for the test.
func shippedCloud(t *testing.T, set string) cloudconfig.Config {
	t.Helper()
	c, err := cloudconfig.Load(filepath.Join("..", "configs", set, "cloud.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c.DataDir, c.NATS.Embedded.StoreDir = t.TempDir(), ""
	c.NATS.Embedded.Listen, c.HTTP.Listen = "127.0.0.1:0", "127.0.0.1:0"
	return c
}

// shippedAgent loads configs/{set}/agent.yaml as shipped, moved onto a
// temp dir and random loopback ports, with its uplink to natsURL.
func shippedAgent(t *testing.T, set, natsURL string) agentconfig.Config {
	t.Helper()
	c, err := agentconfig.Load(filepath.Join("..", "configs", set, "agent.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c.DataDir, c.MQTT.Embedded.Listen, c.HTTP.Listen = t.TempDir(), "127.0.0.1:0", "127.0.0.1:0"
	c.NATS.URL = natsURL
	if p := c.Model.WarmHistory; p != "" && !filepath.IsAbs(p) {
		c.Model.WarmHistory = filepath.Join("..", p) // the config's paths are from the repository's root
	}
	return c
}

// shippedBridge loads configs/{set}/bridge.yaml as shipped, publishing to
// mqttURL.
func shippedBridge(t *testing.T, set, mqttURL string) bridgeconfig.Config {
	t.Helper()
	c, err := bridgeconfig.Load(filepath.Join("..", "configs", set, "bridge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c.MQTT.URL = mqttURL
	return c
}

// startBridge runs the firmware-bridge with c (and log, when not nil) for
// the test's lifetime.
func startBridge(t *testing.T, c bridgeconfig.Config, log *slog.Logger) *bridgeapp.Main {
	t.Helper()
	m := bridgeapp.NewMain()
	m.Config = c
	if log != nil {
		m.Logger = log
	}
	// ctx is the program's lifetime, as in main: cancelled at cleanup.
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := m.Run(ctx); err != nil {
		t.Fatalf("bridge: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("close bridge: %v", err)
		}
	})
	return m
}

func mqttClient(t *testing.T, url string) paho.Client {
	t.Helper()
	opts := paho.NewClientOptions().AddBroker(url).SetClientID(uniqueID("e2e-pub")).SetCleanSession(true)
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("connect %s: %v", url, tok.Error())
	}
	t.Cleanup(func() { c.Disconnect(100) })
	return c
}

// publishTicket prints order's ticket on printer-1: two noodles for the
// wok, short code #17, trace id trace-{order}.
func publishTicket(t *testing.T, c paho.Client, store, order string, at time.Time) {
	t.Helper()
	publish(t, c, wire.Topic{Store: store, Device: wire.DevicePrinter, DeviceID: "printer-1", Event: wire.EventTicket}, wire.Event{
		ID: "t-" + order, Kind: wire.EventTicket, Store: store, DeviceID: "printer-1", At: at, TraceID: "trace-" + order,
		Ticket: &wire.Ticket{OrderID: order, ShortCode: "#17", Items: []wire.Item{{SKU: "noodles", Qty: 2, Station: "wok"}}},
	})
}

// publishBump bumps order on bar-1 at the wok.
func publishBump(t *testing.T, c paho.Client, store, order string, at time.Time) {
	t.Helper()
	publish(t, c, wire.Topic{Store: store, Device: wire.DeviceBumpBar, DeviceID: "bar-1", Event: wire.EventKey}, wire.Event{
		ID: "k-" + order, Kind: wire.EventKey, Store: store, DeviceID: "bar-1", At: at,
		Key: &wire.Key{Action: wire.KeyBump, OrderID: order, Station: "wok"},
	})
}

func publish(t *testing.T, c paho.Client, topic wire.Topic, e wire.Event) {
	t.Helper()
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tok := c.Publish(topic.String(), 1, false, b)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// cleanRealNATS removes what a test left on the shared nats-server: its
// durable consumer and its store's decisions.
func cleanRealNATS(t *testing.T, url, store, durable string) {
	nc, err := nats.Connect(url)
	if err != nil {
		t.Logf("clean up %s: %v", url, err)
		return
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := js.DeleteConsumer(ctx, wire.StreamDecisions, durable); err != nil {
		t.Logf("delete consumer %s: %v", durable, err)
	}
	if s, err := js.Stream(ctx, wire.StreamDecisions); err == nil {
		_ = s.Purge(ctx, jetstream.WithPurgeSubject(wire.DecisionSubject(store)))
	}
}

func uniqueID(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	if prefix == "" {
		return hex.EncodeToString(b)
	}
	return fmt.Sprintf("%s-%s", prefix, hex.EncodeToString(b))
}
