package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHelpTellsFlagsAndDrivers(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"--help"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v", err)
	}
	for _, want := range []string{"-config", "/etc/passline/bridge.yaml", "sim", "escpos", "scale", "evdev", "gpio", "SIGTERM"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBadConfigFails(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"-config", filepath.Join(t.TempDir(), "none.yaml")}, &out); err == nil {
		t.Fatal("missing config accepted")
	}
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("store: s1\nsim: {enabled: true, speed: 0}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-config", path}, &out); err == nil || !strings.Contains(err.Error(), "sim.speed") {
		t.Fatalf("bad config: %v", err)
	}
	for _, args := range [][]string{{"extra"}, {"-config", path, "status"}} {
		if err := run(args, &out); err == nil || !strings.Contains(err.Error(), "unexpected argument") {
			t.Fatalf("%q: %v", args, err)
		}
	}
	// "run" before or after the flags reaches the config.
	for _, args := range [][]string{{"run", "-config", path}, {"-config", path, "run"}} {
		if err := run(args, &out); err == nil || !strings.Contains(err.Error(), "sim.speed") {
			t.Fatalf("%q: %v", args, err)
		}
	}
}
