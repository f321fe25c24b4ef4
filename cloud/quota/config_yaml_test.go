package quota_test

import (
	"os"
	"testing"

	"github.com/passline/passline/cloud/quota"
	"github.com/passline/passline/internal/yamlconf"
)

// TestConfigYAML loads testdata/config.yaml the way the relay config does
// (internal/yamlconf: ${VAR} expansion, known fields only, over the defaults), so the yaml tags
// and the example cannot rot.
func TestConfigYAML(t *testing.T) {
	f, err := os.Open("testdata/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg := quota.DefaultConfig()
	if err := yamlconf.Decode(f, &cfg); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if err := cfg.Validate("limit"); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if cfg.DefaultTier != "free" || cfg.Merchants["noodle-bar"] != "enterprise" || cfg.Tiers["free"].Burst != 10 || cfg.ETAInterval.Minutes() != 1 {
		t.Fatalf("decoded %+v", cfg)
	}
}
