package e2e_test

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	bridgeapp "github.com/passline/passline/firmware-bridge/app"
	bridgeconfig "github.com/passline/passline/firmware-bridge/config"
	"github.com/passline/passline/firmware-bridge/escpos"
)

// startMeteredBridge runs a firmware-bridge for store with its print
// proxy in front of a printer that swallows every byte, and /metrics on a
// free loopback port; it prints one ticket through the proxy and waits
// until the bridge has published it.
func startMeteredBridge(t *testing.T, store, mqttURL string) *bridgeapp.Main {
	t.Helper()
	c := bridgeconfig.DefaultConfig()
	c.Store, c.MQTT.URL, c.MQTT.ClientID = store, mqttURL, uniqueID(store+"-bridge")
	c.HTTP.Listen = "127.0.0.1:0"
	c.ESCPOS = bridgeconfig.ESCPOS{
		Enabled: true, DeviceID: "printer-1", Listen: "127.0.0.1:0", Printer: sinkPrinter(t), CodePage: "cp437",
		DialTimeout: 2 * time.Second, IdleTimeout: 5 * time.Second,
		Patterns: []escpos.Pattern{{OrderID: `Order No: (\S+)`, Item: `(?m)^(?P<qty>\d+) x (?P<name>.+)$`}},
	}
	b := startBridge(t, c, slog.New(slog.NewTextHandler(io.Discard, nil)))
	conn, err := net.Dial("tcp", b.Proxy.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_, _ = conn.Write([]byte("\x1b@Order No: M-1\n1 x Noodles\n\x1dV\x00"))
	_ = conn.Close()
	waitUntil(t, 10*time.Second, "the bridge published the printed ticket", func() bool {
		return b.Proxy.Stats().Parsed == 1
	})
	return b
}

// sinkPrinter is a ticket printer that reads and drops everything.
func sinkPrinter(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { _, _ = io.Copy(io.Discard, c); _ = c.Close() }()
		}
	}()
	return ln.Addr().String()
}
