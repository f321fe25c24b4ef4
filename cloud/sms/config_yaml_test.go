package sms_test

import (
	"os"
	"testing"

	"github.com/passline/passline/cloud/sms"
	"github.com/passline/passline/internal/yamlconf"
)

// TestConfigYAML loads testdata/config.yaml the way the relay config does
// (internal/yamlconf: ${VAR} expansion, known fields only, over the defaults), so the yaml tags
// and the example cannot rot.
func TestConfigYAML(t *testing.T) {
	t.Setenv("PASSLINE_TEST_SMS_KEY", "k-1")
	f, err := os.Open("testdata/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg := sms.DefaultConfig()
	if err := yamlconf.Decode(f, &cfg); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if err := cfg.Validate("sms"); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if cfg.APIKey != "k-1" || cfg.MaxSegments != 2 || len(cfg.Kinds) != 3 || cfg.Retry.Initial.Milliseconds() != 200 || cfg.Breaker.CoolDown.Seconds() != 15 {
		t.Fatalf("decoded %+v", cfg)
	}
}
