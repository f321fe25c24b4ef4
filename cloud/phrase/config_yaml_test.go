package phrase_test

import (
	"os"
	"testing"

	"github.com/passline/passline/cloud/phrase"
	"github.com/passline/passline/internal/yamlconf"
)

// TestConfigYAML loads testdata/config.yaml the way the relay config does
// (internal/yamlconf: ${VAR} expansion, known fields only, over the defaults), so the yaml tags
// and the example cannot rot.
func TestConfigYAML(t *testing.T) {
	t.Setenv("PASSLINE_TEST_LLM_KEY", "sk-1")
	f, err := os.Open("testdata/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg := phrase.DefaultConfig()
	if err := yamlconf.Decode(f, &cfg); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if err := cfg.Validate("phrase"); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if !cfg.Enabled || cfg.APIKey != "sk-1" || cfg.Budget.Milliseconds() != 800 || cfg.MaxChars != 70 || len(cfg.DenyList) != 2 {
		t.Fatalf("decoded %+v", cfg)
	}
}
