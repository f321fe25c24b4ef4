package webhook_test

import (
	"os"
	"testing"

	"github.com/passline/passline/cloud/webhook"
	"github.com/passline/passline/internal/yamlconf"
)

// TestConfigYAML loads testdata/config.yaml the way the relay config does
// (internal/yamlconf: ${VAR} expansion, known fields only, over the defaults), so the yaml tags
// and the example cannot rot.
func TestConfigYAML(t *testing.T) {
	t.Setenv("PASSLINE_TEST_WEBHOOK_SECRET", "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	f, err := os.Open("testdata/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg := webhook.DefaultConfig()
	if err := yamlconf.Decode(f, &cfg); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if err := cfg.Validate("webhook"); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if len(cfg.Endpoints) != 2 || cfg.Endpoints[0].Secret == "" || len(cfg.Endpoints[0].Stores) != 2 || cfg.Timeout.Seconds() != 2 {
		t.Fatalf("decoded %+v", cfg)
	}
	chans, err := webhook.NewAll(cfg, webhook.Options{})
	if err != nil || len(chans) != 2 || chans[1].Name() != "webhook:ops" {
		t.Fatalf("NewAll: %v", err)
	}
}
