package app_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/sys/unix"
	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/gpio/gpiotest"

	"github.com/passline/passline/firmware-bridge/bridgetest"
	"github.com/passline/passline/firmware-bridge/config"
	"github.com/passline/passline/firmware-bridge/escpos"
	"github.com/passline/passline/firmware-bridge/evdev"
	"github.com/passline/passline/wire"
)

// echoPrinter accepts print jobs and discards them.
func echoPrinter(t *testing.T) string {
	return bridgetest.Printer(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
}

func pty(t *testing.T) (*os.File, string) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n)
}

// Every real-device driver, wired by the real program to a real broker:
// a printed ticket, a stable weight on a serial scale, a USB bump bar key,
// a barcode scanner's code, a GPIO button, and an MQTT command that lights
// an LED.
func TestBridgeDevicesOverMQTT(t *testing.T) {
	_, url := startBroker(t)
	store := randomStore(t)
	r := subscribe(t, url, store)

	scaleMaster, scalePort := pty(t)
	kbd := filepath.Join(t.TempDir(), "event-kbd")
	if err := unix.Mkfifo(kbd, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	kbdW, err := os.OpenFile(kbd, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer kbdW.Close()
	scan := filepath.Join(t.TempDir(), "event-scanner")
	if err := unix.Mkfifo(scan, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	scanW, err := os.OpenFile(scan, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer scanW.Close()
	button := &gpiotest.Pin{N: "GPIO17"}
	led := &gpiotest.Pin{N: "GPIO27"}

	cfg := config.DefaultConfig()
	cfg.Store, cfg.MQTT.URL = store, url
	cfg.ESCPOS = config.ESCPOS{
		Enabled: true, DeviceID: "printer-1", Listen: "127.0.0.1:0", Printer: echoPrinter(t), CodePage: "cp437",
		DialTimeout: 2 * time.Second, IdleTimeout: 5 * time.Second,
		Patterns: []escpos.Pattern{{OrderID: `Order No: (\S+)`, Item: `(?m)^(?P<qty>\d+) x (?P<name>.+)$`}},
	}
	cfg.Scale.Enabled, cfg.Scale.Port, cfg.Scale.Retry = true, scalePort, 50*time.Millisecond
	cfg.Evdev.Enabled, cfg.Evdev.Device, cfg.Evdev.Retry = true, kbd, 50*time.Millisecond
	cfg.Scanner.Enabled, cfg.Scanner.Device, cfg.Scanner.Retry = true, scan, 50*time.Millisecond
	cfg.GPIO.Enabled = true
	cfg.GPIO.Buttons = []config.Button{{Pin: "GPIO17", Action: "bump", Station: "wok", Pull: "up"}}
	cfg.GPIO.Outputs = []config.Output{{Name: "pickup-light", Pin: "GPIO27"}}
	cfg.HTTP.Listen = "127.0.0.1:0"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	m := newMain(cfg)
	m.PinByName = func(name string) gpio.PinIO {
		return map[string]gpio.PinIO{"GPIO17": button, "GPIO27": led}[name]
	}
	startMain(t, m)

	// Printer.
	c, err := net.Dial("tcp", m.Proxy.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	ticket := []byte("\x1b@Order No: A-77\n2 x Dumplings\n\x1dV\x00")
	_, _ = c.Write(ticket)
	c.Close()
	r.wait(t, "ticket A-77", 10*time.Second, func(evs []wire.Event) bool {
		for _, e := range evs {
			if e.Kind == wire.EventTicket && e.Ticket.OrderID == "A-77" && len(e.Ticket.Items) == 1 && e.Ticket.Items[0].Qty == 2 {
				return true
			}
		}
		return false
	})
	// Scale.
	for i := 0; i < 5; i++ {
		_, _ = scaleMaster.Write([]byte("ST,GS,+  0.640kg\r\n"))
	}
	r.wait(t, "weight 640 g", 10*time.Second, func(evs []wire.Event) bool {
		for _, e := range evs {
			if e.Kind == wire.EventWeight && e.Weight.Grams == 640 {
				return true
			}
		}
		return false
	})
	// USB bump bar: KEY_0 is bump in the bump10 preset.
	_, _ = kbdW.Write(append(evdev.Encode(evdev.NativeRecordSize, 1, 0, 1, 11, 1), evdev.Encode(evdev.NativeRecordSize, 1, 0, 1, 11, 0)...))
	r.wait(t, "USB bump", 10*time.Second, func(evs []wire.Event) bool {
		for _, e := range evs {
			if e.Kind == wire.EventKey && e.DeviceID == "bumpbar-1" && e.Key.Action == wire.KeyBump {
				return true
			}
		}
		return false
	})
	// Barcode scanner: a code spoiled by a key that types nothing (F1), then
	// the ticket's code.
	typed, _ := evdev.Typed(evdev.NativeRecordSize, "A-77")
	spoiled := append(evdev.Encode(evdev.NativeRecordSize, 1, 0, 1, 59, 1), typed...)
	_, _ = scanW.Write(append(spoiled, typed...))
	r.wait(t, "scan of A-77", 10*time.Second, func(evs []wire.Event) bool {
		for _, e := range evs {
			if e.Kind == wire.EventScan && e.DeviceID == "scanner-1" && e.Scan.Code == "A-77" {
				return true
			}
		}
		return false
	})
	// GPIO button: pressed (low) and held past the debounce window.
	_ = button.Out(gpio.Low)
	r.wait(t, "GPIO bump", 10*time.Second, func(evs []wire.Event) bool {
		for _, e := range evs {
			if e.Kind == wire.EventKey && e.DeviceID == "gpio-1" && e.Key.Station == "wok" {
				return true
			}
		}
		return false
	})
	// GPIO output: the agent lights the pickup light.
	cmd := paho.NewClient(paho.NewClientOptions().AddBroker(url).SetClientID(store + "-agent-test"))
	if tok := cmd.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatal(tok.Error())
	}
	defer cmd.Disconnect(100)
	deadline := time.Now().Add(10 * time.Second)
	for led.Read() != gpio.High {
		cmd.Publish(wire.CommandTopic(store, "gpio-1", "pickup-light"), 1, false, []byte(`{"on":true}`)).WaitTimeout(2 * time.Second)
		if time.Now().After(deadline) {
			t.Fatal("the pickup light never came on")
		}
		time.Sleep(50 * time.Millisecond)
	}
	checkDeviceMetrics(t, m, len(ticket))
}
