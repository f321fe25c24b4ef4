package phrase_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/passline/passline/cloud/phrase"
	"gopkg.in/yaml.v3"
)

// TestConfigYAML loads testdata/config.yaml the way the relay config does
// ($ENV expansion, known fields only, over the defaults), so the yaml tags
// and the example cannot rot.
func TestConfigYAML(t *testing.T) {
	t.Setenv("PASSLINE_TEST_LLM_KEY", "sk-1")
	raw, err := os.ReadFile("testdata/config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg := phrase.DefaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(os.ExpandEnv(string(raw)))))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		t.Fatalf("decode: %v", err)
	}
	if err := cfg.Validate("phrase"); err != nil {
		t.Fatalf("validate: %v", err)
	}
	if !cfg.Enabled || cfg.APIKey != "sk-1" || cfg.Budget.Milliseconds() != 800 || cfg.MaxChars != 70 || len(cfg.DenyList) != 2 {
		t.Fatalf("decoded %+v", cfg)
	}
}
