package webhook_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/passline/passline/cloud/webhook"
	"gopkg.in/yaml.v3"
)

// TestConfigYAML loads testdata/config.yaml the way the relay config does
// ($ENV expansion, known fields only, over the defaults), so the yaml tags
// and the example cannot rot.
func TestConfigYAML(t *testing.T) {
	t.Setenv("PASSLINE_TEST_WEBHOOK_SECRET", "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	raw, err := os.ReadFile("testdata/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := webhook.DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(os.ExpandEnv(string(raw)))))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
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
