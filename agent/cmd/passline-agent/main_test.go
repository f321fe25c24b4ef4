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
}

// TestFlagsBeforeOrAfterCommand checks both spellings reach the same
// command, and that a stray word or an unknown command fails.
func TestFlagsBeforeOrAfterCommand(t *testing.T) {
	tests := []struct {
		args []string
		want string // in the combined output; every case must fail
	}{
		{[]string{"-config", "/nonexistent.yaml"}, "nonexistent.yaml"},
		{[]string{"-config", "/nonexistent.yaml", "run"}, "nonexistent.yaml"},
		{[]string{"run", "-config", "/nonexistent.yaml"}, "nonexistent.yaml"},
		{[]string{"status", "-config", "/nonexistent.yaml"}, "nonexistent.yaml"},
		{[]string{"rejects", "-limit", "3", "-config", "/nonexistent.yaml"}, "nonexistent.yaml"},
		{[]string{"-config", "/nonexistent.yaml", "rejects", "-limit", "3"}, "nonexistent.yaml"},
		{[]string{"-config", "/nonexistent.yaml", "status", "extra"}, "unexpected arguments"},
		{[]string{"status", "extra"}, "unexpected arguments"},
		{[]string{"bogus"}, `unknown command "bogus"`},
	}
	for _, tt := range tests {
		out, err := exec.Command(binary, tt.args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tt.want) {
			t.Errorf("%q: err %v, want failure mentioning %q; output:\n%s", tt.args, err, tt.want, out)
		}
	}
}
