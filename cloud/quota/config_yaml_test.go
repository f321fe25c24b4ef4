package quota_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/passline/passline/cloud/quota"
	"gopkg.in/yaml.v3"
)

// TestConfigYAML loads testdata/config.yaml the way the relay config does
// ($ENV expansion, known fields only, over the defaults), so the yaml tags
// and the example cannot rot.
func TestConfigYAML(t *testing.T) {
	t.Setenv("UNUSED", "x")
	raw, err := os.ReadFile("testdata/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := quota.DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(os.ExpandEnv(string(raw)))))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if err := cfg.Validate("limit"); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if cfg.DefaultTier != "free" || cfg.Merchants["noodle-bar"] != "enterprise" || cfg.Tiers["free"].Burst != 10 || cfg.ETAInterval.Minutes() != 1 {
		t.Fatalf("decoded %+v", cfg)
	}
}
