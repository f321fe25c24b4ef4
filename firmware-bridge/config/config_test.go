package config_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/firmware-bridge/config"
	"github.com/passline/passline/firmware-bridge/sim"
	"github.com/passline/passline/wire"
	"github.com/passline/passline/wire/tlsconf/tlstest"
)

// Every bridge config shipped in configs/ loads and validates.
func TestShippedConfigsLoad(t *testing.T) {
	t.Setenv("PASSLINE_MQTT_PASSWORD", "secret")
	tlstest.Setenv(t, "bridge")
	root := filepath.Join("..", "..", "configs")
	var found []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasPrefix(d.Name(), "bridge") && strings.HasSuffix(d.Name(), ".yaml") {
			found = append(found, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) < 2 {
		t.Fatalf("found %v; want configs/bridge.yaml and configs/demo/bridge.yaml", found)
	}
	for _, path := range found {
		t.Run(path, func(t *testing.T) {
			cfg, err := config.Load(path)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Store == "" || cfg.ClientID() != cfg.Store+"-bridge" {
				t.Fatalf("store %q client id %q", cfg.Store, cfg.ClientID())
			}
		})
	}
}

// TestDemoConfigIsRealTimeSim: the demo kitchen runs in real time (so the
// minutes riders are told are real minutes) with short dishes, so a
// watcher sees the first order printed at once and bumped within about a
// minute, and a few orders every minute.
func TestDemoConfigIsRealTimeSim(t *testing.T) {
	cfg, err := config.Load(filepath.Join("..", "..", "configs", "demo", "bridge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Store != "demo-1" || !cfg.Sim.Enabled || cfg.MQTT.URL != "tcp://127.0.0.1:18830" {
		t.Fatalf("demo config: store %q sim %v url %q", cfg.Store, cfg.Sim.Enabled, cfg.MQTT.URL)
	}
	k := cfg.Sim.Kitchen
	if k.Speed != 1 {
		t.Fatalf("demo sim speed %v: the demo kitchen must run in real time", k.Speed)
	}
	for _, d := range k.Menu {
		if d.Prep > time.Minute {
			t.Errorf("dish %s takes %s: the demo's dishes are short", d.SKU, d.Prep)
		}
	}
	count := func(evs []wire.Event, kind wire.EventKind) int {
		n := 0
		for _, e := range evs {
			if e.Kind == kind {
				n++
			}
		}
		return n
	}
	start := time.Now()
	k.Store = cfg.Store
	kitchen, err := sim.NewKitchen(k, cfg.Sim.Seed, start)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(kitchen.Step(start), wire.EventTicket); n != 1 {
		t.Fatalf("%d tickets at start; want the first order printed at once", n)
	}
	var evs []wire.Event
	for s := 1; s <= 90 && count(evs, wire.EventKey) == 0; s++ {
		evs = append(evs, kitchen.Step(start.Add(time.Duration(s)*time.Second))...)
	}
	if count(evs, wire.EventKey) == 0 {
		t.Fatal("no bump within 90 s of start")
	}
	var tickets int
	for s := 1; s <= 600; s++ {
		tickets += count(kitchen.Step(start.Add(90*time.Second+time.Duration(s)*time.Second)), wire.EventTicket)
	}
	if tickets < 10 || tickets > 60 {
		t.Fatalf("%d tickets in 10 minutes of demo; want a few a minute", tickets)
	}
}

func TestParseExpandsEnvAndRejectsUnknownFields(t *testing.T) {
	t.Setenv("BRIDGE_TEST_PW", "s3cret")
	cfg, err := config.Parse(strings.NewReader("store: s1\nmqtt:\n  password: ${BRIDGE_TEST_PW}\nsim:\n  enabled: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MQTT.Password != "s3cret" || cfg.Sim.Kitchen.Speed != 1 {
		t.Fatalf("password %q speed %v", cfg.MQTT.Password, cfg.Sim.Kitchen.Speed)
	}
	if _, err := config.Parse(strings.NewReader("store: s1\nsim:\n  enabled: true\n  speeed: 3\n")); err == nil || !strings.Contains(err.Error(), "speeed") {
		t.Fatalf("unknown field: %v", err)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	base := "store: s1\nsim:\n  enabled: true\n"
	for _, tc := range []struct{ yaml, field string }{
		{"store: 'a/b'\nsim: {enabled: true}\n", "store:"},
		{base + "mqtt: {url: 'nope'}\n", "mqtt.url"},
		{base + "mqtt: {publish_timeout: 0s}\n", "mqtt.publish_timeout"},
		{"store: s1\n", "sim.enabled"},
		{base + "  speed: 0\n", "sim.speed"},
		{base + "  stores: [ok, 'b a d']\n", "sim.stores[1]"},
		{base + "escpos: {enabled: true, printer: 'nohost'}\n", "escpos.printer"},
		{base + "escpos: {enabled: true, printer: 'p:9100', code_page: ebcdic}\n", "escpos.code_page"},
		{base + "escpos: {enabled: true, printer: 'p:9100', patterns: [{order_id: '(['}]}\n", "escpos.patterns[0].order_id"},
		{base + "scale: {enabled: true}\n", "scale.port"},
		{base + "scale: {enabled: true, port: /dev/x, baud: 7}\n", "scale.baud"},
		{base + "evdev: {enabled: true}\n", "evdev.device"},
		{base + "evdev: {enabled: true, device: /dev/x, keys: {KEY_1: fly}}\n", "evdev.keys"},
		{base + "escpos: {enabled: true, printer: 'p:9100', scan_code: datamatrix, patterns: [{order_id: '(x)'}]}\n", "escpos.scan_code"},
		{base + "escpos: {enabled: true, printer: 'p:9100', patterns: [{order_id: '(x)', scan_code: pdf417}]}\n", "escpos.patterns[0].scan_code"},
		{base + "scanner: {enabled: true}\n", "scanner.device"},
		{base + "scanner: {enabled: true, device: /dev/s, device_id: 'a b'}\n", "scanner.device_id"},
		{base + "scanner: {enabled: true, device: /dev/s, gap: 0s}\n", "scanner.gap"},
		{base + "scanner: {enabled: true, device: /dev/s, gap: 1m}\n", "scanner.gap"},
		{base + "scanner: {enabled: true, device: /dev/x}\nevdev: {enabled: true, device: /dev/x}\n", "scanner.device"},
		{base + "scanner: {enabled: true, device: /dev/s, device_id: b}\nevdev: {enabled: true, device: /dev/x, device_id: b}\n", "scanner.device_id"},
		{base + "gpio: {enabled: true, buttons: [{pin: GPIO1, action: bump}, {pin: GPIO1, action: bump}]}\n", "gpio.buttons[1].pin"},
		{base + "gpio: {enabled: true, buttons: [{pin: GPIO1, action: 'select:0'}]}\n", "gpio.buttons[0].action"},
		{base + "gpio: {enabled: true, outputs: [{pin: GPIO2, name: 'a b'}]}\n", "gpio.outputs[0].name"},
	} {
		_, err := config.Parse(strings.NewReader(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("config\n%s\ngave error %v; want one naming %s", tc.yaml, err, tc.field)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// A $ in the MQTT password survives: $$ is one literal $ (os.ExpandEnv
// turned this password into "Xk9z!").
func TestDollarInPassword(t *testing.T) {
	c, err := config.Parse(strings.NewReader("store: s1\nsim: {enabled: true}\nmqtt:\n  password: \"Xk9$mQ2$$z!\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.MQTT.Password != "Xk9$mQ2$z!" {
		t.Fatalf("password %q, want Xk9$mQ2$z!", c.MQTT.Password)
	}
}
