package config_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/passline/passline/firmware-bridge/config"
	"github.com/passline/passline/firmware-bridge/escpos"
)

// The production example's print patterns really read the test tickets,
// with its code page, so the example cannot drift from what works.
func TestExampleConfigReadsTestTickets(t *testing.T) {
	t.Setenv("PASSLINE_MQTT_PASSWORD", "secret")
	cfg, err := config.Load(filepath.Join("..", "..", "configs", "bridge.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cp, err := escpos.LookupCodePage(cfg.ESCPOS.CodePage)
	if err != nil {
		t.Fatal(err)
	}
	x, err := escpos.NewExtractor(cfg.ESCPOS.Patterns)
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string]struct {
		id, channel string
		items       int
	}{
		"english.bin":         {"UE-10442", "ubereats", 3},
		"chinese_gb18030.bin": {"MT2026-88123", "meituan", 3},
	} {
		b, err := os.ReadFile(filepath.Join("..", "escpos", "testdata", file))
		if err != nil {
			t.Fatal(err)
		}
		d := escpos.NewDecoder(cp)
		texts := d.Write(b)
		if len(texts) != 1 {
			t.Fatalf("%s: %d tickets", file, len(texts))
		}
		tk, ok := x.Extract(texts[0], time.Date(2026, 11, 23, 12, 0, 0, 0, time.Local))
		if !ok || tk.OrderID != want.id || tk.Channel != want.channel || len(tk.Items) != want.items || tk.PromisedAt == nil {
			t.Fatalf("%s: ok %v ticket %+v\ntext:\n%s", file, ok, tk, texts[0])
		}
	}
}
