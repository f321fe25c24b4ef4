package e2e_test

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"golang.org/x/sys/unix"

	agentpkg "github.com/passline/passline/agent"
	"github.com/passline/passline/cloud/platform"
	bridgeconfig "github.com/passline/passline/firmware-bridge/config"
	"github.com/passline/passline/firmware-bridge/escpos"
	"github.com/passline/passline/firmware-bridge/evdev"
	"github.com/passline/passline/wire"
)

// keepingPrinter is a ticket printer that keeps every byte it is sent.
type keepingPrinter struct {
	mu  sync.Mutex
	got bytes.Buffer
}

func (p *keepingPrinter) bytes() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]byte(nil), p.got.Bytes()...)
}

func startKeepingPrinter(t *testing.T) (*keepingPrinter, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	p := &keepingPrinter{}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				for {
					n, err := c.Read(buf)
					p.mu.Lock()
					p.got.Write(buf[:n])
					p.mu.Unlock()
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return p, ln.Addr().String()
}

// TestScannedTicketReachesRiderAsReady: the whole scan-to-ready path with
// the programs' own Main types. The POS prints a ticket through the
// bridge's print proxy, which adds a QR code of the order id before the
// cut; the QR's content, typed by a USB barcode scanner (a named pipe
// standing in for /dev/input/eventN, fed the kernel's input_event
// records), becomes a scan event; the agent makes the order ready and the
// rider gets a ready notification naming the scan, which is a real kitchen
// report for the platforms (platform.Update.Kitchen, Meituan's meal-ready
// call). A second scan of the same ticket tells nobody anything more, and a
// code of no open order moves nothing and is counted as unknown_code.
func TestScannedTicketReachesRiderAsReady(t *testing.T) {
	store, rider := uniqueID("scan"), uniqueID("rider")
	order := "M-" + uniqueID("")[:8]
	cloud := startCloud(t, cloudConfig(t, ""))
	agent := startAgent(t, agentConfig(t, store, "", cloud.NATSURL()))
	waitUntil(t, 20*time.Second, "agent subscribed to MQTT", agent.MQTTConnected)

	nc, err := nats.Connect(cloud.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	notes := make(chan *nats.Msg, 16)
	if _, err := nc.ChanSubscribe(wire.RiderFilter(rider), notes); err != nil {
		t.Fatal(err)
	}
	decisions := make(chan *nats.Msg, 16)
	if _, err := nc.ChanSubscribe(wire.DecisionSubject(store), decisions); err != nil {
		t.Fatal(err)
	}
	assign, _ := wire.Assignment{Store: store, OrderID: order, Rider: rider, At: time.Now()}.Marshal()
	if err := nc.Publish(wire.AssignSubject(store), assign); err != nil {
		t.Fatal(err)
	}

	pipe := filepath.Join(t.TempDir(), "event-scanner")
	if err := unix.Mkfifo(pipe, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	scanner, err := os.OpenFile(pipe, os.O_RDWR, 0) // read-write: the open waits for no reader
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = scanner.Close() })
	printer, printerAddr := startKeepingPrinter(t)
	c := bridgeconfig.DefaultConfig()
	c.Store, c.MQTT.URL, c.MQTT.ClientID = store, agent.MQTTURL(), uniqueID(store+"-bridge")
	c.ESCPOS = bridgeconfig.ESCPOS{
		Enabled: true, DeviceID: "printer-1", Listen: "127.0.0.1:0", Printer: printerAddr, CodePage: "cp437",
		DialTimeout: 2 * time.Second, IdleTimeout: 5 * time.Second, ScanCode: "qr",
		Patterns: []escpos.Pattern{{OrderID: `Order No: (\S+)`, ShortCode: `Pickup (#\d+)`, Item: `(?m)^(?P<qty>\d+) x (?P<name>.+)$`}},
	}
	c.Scanner = bridgeconfig.Scanner{Enabled: true, DeviceID: "scanner-1", Device: pipe, Gap: time.Second, Retry: 50 * time.Millisecond}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	bridge := startBridge(t, c, slog.New(slog.NewTextHandler(io.Discard, nil)))

	job := []byte("\x1b@Order No: " + order + "\nPickup #31\n2 x Noodles\n\x1bd\x03\x1dV\x42\x00")
	pos, err := net.Dial("tcp", bridge.Proxy.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pos.Write(job); err != nil {
		t.Fatal(err)
	}
	_ = pos.Close()
	var printed []byte
	waitUntil(t, 10*time.Second, "the printer got the ticket and its QR code", func() bool {
		printed = printer.bytes()
		return bytes.HasSuffix(printed, []byte("\x1dV\x42\x00"))
	})
	codes := escpos.ScannableCodes(printed)
	if len(codes) != 1 || codes[0] != order {
		t.Fatalf("codes printed %q, want one QR of %s", codes, order)
	}
	if !bytes.Contains(printed, []byte{0x1d, '(', 'k', byte(len(order) + 3), 0, '1', 'P', '0'}) {
		t.Fatal("no QR store command (GS ( k ... 1 P 0) on the ticket")
	}
	waitUntil(t, 10*time.Second, "the agent has the ticket", func() bool {
		st, err := agent.Status()
		return err == nil && len(st.OpenOrders) == 1
	})

	typeCode := func(code string) {
		t.Helper()
		b, err := evdev.Typed(evdev.NativeRecordSize, code)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := scanner.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	typeCode("NO-SUCH-ORDER")
	typeCode(codes[0])

	var ready wire.Notification
	deadline := time.After(20 * time.Second)
	for ready.Kind != wire.KindReady {
		select {
		case m := <-notes:
			if ready, err = wire.DecodeNotification(m.Data); err != nil {
				t.Fatalf("invalid notification: %v", err)
			}
		case <-deadline:
			st, _ := agent.Status()
			t.Fatalf("no ready for %s within 20 s; agent status %+v", order, st)
		}
	}
	if ready.OrderID != order || !strings.HasPrefix(ready.EventID, "scanner-1-") {
		t.Fatalf("ready %+v, want order %s caused by a scanner-1 event", ready, order)
	}
	u := platform.Update{DecisionID: ready.ID, Store: store, OrderID: order, Kind: ready.Kind, EventID: ready.EventID,
		DecidedAt: ready.DecidedAt, Order: platform.Order{Store: store, OrderID: order, Platform: platform.Meituan, PlatformID: "mt-1"}}
	if !u.Kitchen() {
		t.Fatal("a scan's ready is not a real kitchen event for the platforms")
	}
	if call, ok := platform.NewMeituan().Plan(u, platform.Credentials{}, time.Now()); !ok || call.Path != platform.MeituanMealCompletePath {
		t.Fatalf("Meituan would not hear the scan's ready: %+v %v", call, ok)
	}

	typeCode(order)           // the same ticket again: idempotent
	typeCode("NO-SUCH-ORDER") // in order behind it: when this is counted, the repeat was applied
	waitUntil(t, 10*time.Second, "the repeat scan and the unknown codes are applied", func() bool {
		st, err := agent.Status()
		return err == nil && st.Rejects[agentpkg.ReasonUnknownCode] == 2 && st.Outbox.Depth == 0
	})
	readies := 0
	for drained := false; !drained; {
		select {
		case m := <-decisions:
			d, err := wire.DecodeDecision(m.Data)
			if err != nil {
				t.Fatal(err)
			}
			if d.Kind == wire.KindReady {
				readies++
			}
		case <-time.After(500 * time.Millisecond): // the outbox is empty: nothing more is coming
			drained = true
		}
	}
	if readies != 1 {
		t.Fatalf("%d ready decisions for the order, want exactly 1", readies)
	}
}
