package mqtt_test

import (
	"context"
	"log/slog"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	"github.com/mochi-mqtt/server/v2/listeners"

	bridge "github.com/passline/passline/firmware-bridge"
	"github.com/passline/passline/firmware-bridge/mqtt"
	"github.com/passline/passline/internal/mqttlisten"
	"github.com/passline/passline/wire"
)

// broker runs mochi on addr (plain TCP); the test is skipped when addr
// cannot be bound (a restarted broker's port taken meanwhile).
func broker(tb testing.TB, addr string, hooks ...mochi.Hook) (*mochi.Server, string) {
	tb.Helper()
	s, bound, err := serveBroker(tb, listeners.Config{ID: "t", Address: addr}, hooks...)
	if err != nil {
		tb.Skipf("listen %s: %v", addr, err)
	}
	return s, bound
}

// serveBroker runs mochi with one TCP listener lc and returns the address
// it bound, or the listen error.
func serveBroker(tb testing.TB, lc listeners.Config, hooks ...mochi.Hook) (*mochi.Server, string, error) {
	tb.Helper()
	s := mochi.New(&mochi.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	_ = s.AddHook(new(auth.AllowHook), nil)
	for _, h := range hooks {
		if err := s.AddHook(h, nil); err != nil {
			tb.Fatal(err)
		}
	}
	l := mqttlisten.NewTCP(lc.ID, lc.Address, lc.TLSConfig)
	if err := s.AddListener(l); err != nil {
		return nil, "", err
	}
	go func() { _ = s.Serve() }()
	return s, l.Address(), nil
}

func TestPublishBeforeConnect(t *testing.T) {
	c := mqtt.New(mqtt.Options{Store: "s1", DeviceID: "bridge"})
	if err := c.Publish(wire.DeviceBridge, bridge.StatusEvent("s1", "bridge", true, "", time.Now())); err == nil {
		t.Fatal("publish before connect succeeded")
	}
}

// After the broker restarts, the client reconnects on its own, publishes
// again, and its command subscriptions are restored.
func TestReconnectRestoresPublishAndSubscriptions(t *testing.T) {
	s1, addr := broker(t, "127.0.0.1:0")
	c := mqtt.New(mqtt.Options{
		URL: "tcp://" + addr, ClientID: "s1-bridge", Store: "s1", DeviceID: "bridge",
		KeepAlive: 5 * time.Second, ConnectTimeout: 5 * time.Second, PublishTimeout: 2 * time.Second,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var commands atomic.Int64
	topic := wire.CommandTopic("s1", "gpio-1", "+")
	if err := c.Subscribe(topic, func(string, []byte) { commands.Add(1) }); err != nil {
		t.Fatal(err)
	}
	ev := bridge.Action{Key: wire.KeyBump}.Event("s1", "bumpbar-1", "", 0, time.Now())
	if err := c.Publish(wire.DeviceBumpBar, ev); err != nil {
		t.Fatal(err)
	}

	_ = mqttlisten.Shutdown(s1)
	deadline := time.Now().Add(10 * time.Second)
	for c.Connected() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if c.Connected() {
		t.Fatal("still connected after the broker closed")
	}
	// The same port again; give the old listener a moment to let go.
	var s2 *mochi.Server
	for s2 == nil {
		if ln, err := net.Listen("tcp", addr); err == nil {
			ln.Close()
			s2, _ = broker(t, addr)
		} else if time.Now().After(deadline) {
			t.Skipf("cannot rebind %s: %v", addr, err)
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	defer mqttlisten.Shutdown(s2)
	deadline = time.Now().Add(30 * time.Second)
	for !c.Connected() {
		if time.Now().After(deadline) {
			t.Fatal("no reconnect within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := c.Publish(wire.DeviceBumpBar, ev); err != nil {
		t.Fatalf("publish after reconnect: %v", err)
	}
	agent := paho.NewClient(paho.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("s1-agent"))
	if tok := agent.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer agent.Disconnect(100)
	for commands.Load() == 0 {
		agent.Publish(wire.CommandTopic("s1", "gpio-1", "buzzer"), 1, false, []byte(`{"on":true}`)).WaitTimeout(2 * time.Second)
		if time.Now().After(deadline) {
			t.Fatal("command subscription not restored after reconnect")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if pub, _ := c.Counts(); pub != 2 {
		t.Fatalf("published %d, want 2", pub)
	}
}
