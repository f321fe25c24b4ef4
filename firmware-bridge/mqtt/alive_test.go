package mqtt_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/passline/passline/firmware-bridge/mqtt"
)

// front listens on addr and pipes each connection to target, or, with
// target "", holds it without ever answering, so a client's MQTT
// handshake hangs until its own deadline. stop closes the listener first,
// so the port refuses at once, then every connection; cleanup calls it too.
func front(t *testing.T, addr, target string) (bound string, stop func()) {
	t.Helper()
	var ln net.Listener
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Skipf("cannot rebind %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var mu sync.Mutex
	var open []net.Conn
	keep := func(c net.Conn) {
		mu.Lock()
		defer mu.Unlock()
		open = append(open, c)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			keep(c)
			if target == "" {
				continue
			}
			b, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			keep(b)
			go func() { _, _ = io.Copy(b, c); b.Close() }()
			go func() { _, _ = io.Copy(c, b); c.Close() }()
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			ln.Close()
			mu.Lock()
			defer mu.Unlock()
			for _, c := range open {
				c.Close()
			}
		})
	}
	t.Cleanup(stop)
	return ln.Addr().String(), stop
}

// poll waits up to d for cond, checking every 20 ms.
func poll(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Alive holds while the link is up and while paho keeps retrying an absent
// broker; it fails once no connection attempt begins within StallAfter
// (here a handshake the tarpit holds past StallAfter stands in for paho
// wedged on a lost connection), and holds again once connected.
func TestAliveOnlyWhileLinkUpOrRetrying(t *testing.T) {
	_, baddr := broker(t, "127.0.0.1:0")
	addr, cut := front(t, "127.0.0.1:0", baddr)
	const stall = 600 * time.Millisecond
	c := mqtt.New(mqtt.Options{
		URL: "tcp://" + addr, ClientID: "s1-bridge", Store: "s1", DeviceID: "bridge",
		KeepAlive: 5 * time.Second, ConnectTimeout: 3 * time.Second, PublishTimeout: time.Second,
		MaxReconnectInterval: 100 * time.Millisecond, StallAfter: stall, Logger: slog.New(slog.DiscardHandler),
	})
	if err := c.Alive(); err == nil {
		t.Fatal("alive before Connect")
	}
	if err := c.Connect(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	poll(t, 5*time.Second, "connected", c.Connected)
	if err := c.Alive(); err != nil {
		t.Fatalf("connected: %v", err)
	}

	cut()
	poll(t, 10*time.Second, "link seen down", func() bool { return !c.Connected() })
	for end := time.Now().Add(3 * stall); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if err := c.Alive(); err != nil {
			t.Fatalf("broker refusing, paho retrying every 100 ms: %v", err)
		}
	}

	_, unhold := front(t, addr, "")
	poll(t, 10*time.Second, "Alive fails while an attempt hangs past StallAfter", func() bool { return c.Alive() != nil })
	t.Logf("stalled: %v", c.Alive())

	unhold()
	front(t, addr, baddr)
	poll(t, 20*time.Second, "reconnected and alive", func() bool { return c.Connected() && c.Alive() == nil })
}
