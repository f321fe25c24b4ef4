package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

var binary string

// TestMain builds the real passline-agent once for the tests here.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "passline-agent-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "passline-agent")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if out, err := exec.Command(gobin, "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build passline-agent: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestHelpTellsTheCommands(t *testing.T) {
	out, err := exec.Command(binary, "--help").CombinedOutput()
	if err != nil {
		t.Fatalf("--help: %v\n%s", err, out)
	}
	for _, want := range []string{"status", "rejects", "model", "-config"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("--help does not mention %q:\n%s", want, out)
		}
	}
	out, _ = exec.Command(binary, "model").CombinedOutput()
	if strings.Contains(string(out), "unknown command") {
		t.Errorf("model is not dispatched to modelcmd: %s", out)
	}
	out, err = exec.Command(binary, "-config", "/nonexistent.yaml").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "nonexistent.yaml") {
		t.Errorf("missing config: err %v, output %s", err, out)
	}
}
