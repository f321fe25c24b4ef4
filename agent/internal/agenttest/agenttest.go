// Package agenttest holds the agent's test helpers: embedded NATS and MQTT
// brokers on random loopback ports, a QoS 1 publisher, event builders and a
// reader for the DECISIONS stream.
package agenttest

import (
	"context"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/agent/mqtt"
	"github.com/passline/passline/wire"
)

// NATS is an embedded nats-server with JetStream.
type NATS struct {
	Srv  *server.Server
	Opts *server.Options
}

// StartNATS starts a server on a random port, storing under dir (pass
// t.TempDir(); reuse it to restart the "same" server). Port -1 picks a
// port; pass a port to restart on the same address. Each tweak adjusts
// the options before the server starts (TLS, for one).
func StartNATS(tb testing.TB, dir string, port int, tweaks ...func(*server.Options)) *NATS {
	tb.Helper()
	opts := &server.Options{Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: dir, NoSigs: true, NoLog: true}
	for _, f := range tweaks {
		f(opts)
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		tb.Fatalf("nats server: %v", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		tb.Fatal("nats server not ready")
	}
	n := &NATS{Srv: srv, Opts: opts}
	tb.Cleanup(n.Stop)
	return n
}

// URL is the client URL.
func (n *NATS) URL() string { return n.Srv.ClientURL() }

// Port is the bound port.
func (n *NATS) Port() int { return n.Srv.Addr().(*net.TCPAddr).Port }

// Stop shuts the server down and waits.
func (n *NATS) Stop() {
	n.Srv.Shutdown()
	n.Srv.WaitForShutdown()
}

// Broker starts an embedded mochi broker on a random loopback port.
func Broker(tb testing.TB, persist string) *mqtt.Broker {
	tb.Helper()
	b := &mqtt.Broker{Listen: "127.0.0.1:0", Persist: persist, Log: Quiet()}
	if err := b.Run(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { b.Close() })
	return b
}

// Publisher connects a paho client (clean session) for publishing with QoS 1.
func Publisher(tb testing.TB, url string) paho.Client {
	tb.Helper()
	return connectPublisher(tb, url, fmt.Sprintf("pub-%d", time.Now().UnixNano()), true)
}

// PersistentPublisher connects a paho client with a persistent session
// under clientID: after a reconnect paho resends the publishes the broker
// had not acked.
func PersistentPublisher(tb testing.TB, url, clientID string) paho.Client {
	tb.Helper()
	return connectPublisher(tb, url, clientID, false)
}

func connectPublisher(tb testing.TB, url, clientID string, clean bool) paho.Client {
	tb.Helper()
	opts := paho.NewClientOptions().AddBroker(url).SetClientID(clientID).
		SetCleanSession(clean).SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(100 * time.Millisecond).
		SetMaxReconnectInterval(time.Second)
	c := paho.NewClient(opts)
	if tok := c.Connect(); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		tb.Fatalf("publisher connect %s: %v", url, tok.Error())
	}
	tb.Cleanup(func() { c.Disconnect(100) })
	return c
}

// Publish sends ev on its topic with QoS 1 and waits for the broker's ack.
func Publish(tb testing.TB, c paho.Client, ev wire.Event) {
	tb.Helper()
	b, err := ev.Marshal()
	if err != nil {
		tb.Fatalf("marshal %s: %v", ev.ID, err)
	}
	PublishRaw(tb, c, Topic(ev), b)
}

// PublishRaw sends raw bytes with QoS 1 and waits for the broker's ack.
func PublishRaw(tb testing.TB, c paho.Client, topic string, b []byte) {
	tb.Helper()
	tok := c.Publish(topic, 1, false, b)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		tb.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// Topic is the device topic an event belongs on.
func Topic(ev wire.Event) string {
	dev := map[wire.EventKind]wire.Device{wire.EventTicket: wire.DevicePrinter, wire.EventUnparsed: wire.DevicePrinter,
		wire.EventKey: wire.DeviceBumpBar, wire.EventWeight: wire.DeviceScale, wire.EventPOS: wire.DevicePOS,
		wire.EventScan: wire.DeviceScanner, wire.EventStatus: wire.DeviceBridge}[ev.Kind]
	return wire.Topic{Store: ev.Store, Device: dev, DeviceID: ev.DeviceID, Event: ev.Kind}.String()
}

// Ticket builds a ticket event for order with one item at station.
func Ticket(store, order, station string, at time.Time) wire.Event {
	return wire.Event{V: wire.Version, ID: "t-" + order, Kind: wire.EventTicket, Store: store, DeviceID: "printer1", At: at,
		Ticket: &wire.Ticket{OrderID: order, ShortCode: "#" + order, Items: []wire.Item{{SKU: "burger", Qty: 2, Station: station}}}}
}

// Bump builds a bump key naming the order.
func Bump(store, order string, at time.Time) wire.Event {
	return Key(store, "b-"+order, wire.Key{Action: wire.KeyBump, OrderID: order}, at)
}

// Key builds a bump-bar key event.
func Key(store, id string, k wire.Key, at time.Time) wire.Event {
	return wire.Event{V: wire.Version, ID: id, Kind: wire.EventKey, Store: store, DeviceID: "bar1", At: at, Key: &k}
}

// Scan builds a barcode scanner's event for a scanned code.
func Scan(store, id, code string, at time.Time) wire.Event {
	return wire.Event{V: wire.Version, ID: id, Kind: wire.EventScan, Store: store, DeviceID: "scanner1", At: at, Scan: &wire.Scan{Code: code}}
}

// ConfigBuckets creates KV PASSLINE_CONFIG and PASSLINE_CONFIG_STATUS on
// the server at url, standing in for the cloud, which makes them in
// production (agent code imports no cloud package), and returns them on a
// connection that reconnects forever (it outlives a server restart) and is
// closed at cleanup.
func ConfigBuckets(tb testing.TB, url string) (config, status jetstream.KeyValue) {
	tb.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	if config, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: wire.BucketConfig}); err != nil {
		tb.Fatal(err)
	}
	if status, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: wire.BucketConfigStatus}); err != nil {
		tb.Fatal(err)
	}
	return config, status
}

// Decisions reads every message in the DECISIONS stream.
func Decisions(tb testing.TB, url string) []wire.Decision {
	tb.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := js.Stream(ctx, wire.StreamDecisions)
	if err != nil {
		return nil
	}
	info, err := s.Info(ctx)
	if err != nil || info.State.Msgs == 0 {
		return nil
	}
	var out []wire.Decision
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		d, err := wire.DecodeDecision(m.Data)
		if err != nil {
			tb.Errorf("stream seq %d: %v", seq, err)
			continue
		}
		out = append(out, d)
	}
	return out
}

// Eventually polls cond every 20 ms until it holds or timeout passes.
func Eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Env returns an environment variable, or skips the test saying so.
func Env(tb testing.TB, name string) string {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		tb.Skipf("%s is not set: skipping the real-broker case", name)
	}
	return v
}

// EnvOptional returns an environment variable or "".
func EnvOptional(name string) string { return os.Getenv(name) }
