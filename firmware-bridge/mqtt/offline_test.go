package mqtt_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	bridge "github.com/passline/passline/firmware-bridge"
	"github.com/passline/passline/firmware-bridge/mqtt"
	"github.com/passline/passline/internal/mqttlisten"
	"github.com/passline/passline/wire"
)

type publishCounter struct {
	mochi.HookBase
	keys atomic.Int64
}

func (h *publishCounter) ID() string           { return "publish-counter" }
func (h *publishCounter) Provides(b byte) bool { return b == mochi.OnPublish }
func (h *publishCounter) OnPublish(cl *mochi.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.ID == "s1-bridge" && strings.HasSuffix(pk.TopicName, "/key") {
		h.keys.Add(1)
	}
	return pk, nil
}

// With the broker away, Publish returns at once with ErrQueued (no
// PublishTimeout stall per event), keeps at most MaxBacklog events, and
// the queued ones reach the broker when it comes up.
func TestOfflineQueueIsFastAndBounded(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := mqtt.New(mqtt.Options{
		URL: "tcp://" + addr, ClientID: "s1-bridge", Store: "s1", DeviceID: "bridge",
		KeepAlive: 5 * time.Second, ConnectTimeout: 300 * time.Millisecond, PublishTimeout: 5 * time.Second,
		MaxBacklog: 3,
		Logger:     slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	})
	if err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	var queuedErrs, other int
	for i := 0; i < 5; i++ {
		ev := bridge.Action{Key: wire.KeyBump}.Event("s1", "bumpbar-1", "", 0, time.Now())
		switch err := c.Publish(wire.DeviceBumpBar, ev); {
		case errors.Is(err, bridge.ErrQueued):
			queuedErrs++
		case err != nil:
			other++
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("5 offline publishes took %s", d)
	}
	if q, dropped := c.OfflineCounts(); queuedErrs != 3 || other != 2 || q != 3 || dropped != 2 {
		t.Fatalf("queued %d (%d) dropped %d other %d", queuedErrs, q, dropped, other)
	}

	h := &publishCounter{}
	s, _ := broker(t, addr, h)
	defer mqttlisten.Shutdown(s)
	deadline := time.Now().Add(30 * time.Second)
	for h.keys.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("broker got %d of the 3 queued events", h.keys.Load())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
