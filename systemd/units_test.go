// Package systemd_test checks the shipped unit files, so they cannot rot.
package systemd_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// unit parses a unit file into key → values (a key may repeat).
func unit(t *testing.T, name string) map[string][]string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kv := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: malformed line %q", name, line)
		}
		kv[k] = append(kv[k], v)
	}
	return kv
}

func TestUnits(t *testing.T) {
	common := map[string]string{
		"NotifyAccess":           "main",
		"Restart":                "always",
		"StateDirectory":         "passline",
		"After":                  "network-online.target",
		"NoNewPrivileges":        "yes",
		"ProtectSystem":          "strict",
		"PrivateTmp":             "yes",
		"ConfigurationDirectory": "passline",
	}
	tests := []struct {
		file  string
		bin   string
		extra map[string]string
	}{
		{"passline-agent.service", "passline-agent", map[string]string{"Type": "notify", "WatchdogSec": ""}},
		{"passline-cloud.service", "passline-cloud", map[string]string{"Type": "notify", "WatchdogSec": ""}},
		{"passline-bridge.service", "passline-bridge", map[string]string{"Type": "notify", "WatchdogSec": "", "SupplementaryGroups": "gpio dialout"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			kv := unit(t, tt.file)
			for k, want := range common {
				if !has(kv[k], want) {
					t.Errorf("%s=%v, want it to contain %q", k, kv[k], want)
				}
			}
			for k, want := range tt.extra {
				if !has(kv[k], want) {
					t.Errorf("%s=%v, want it to contain %q", k, kv[k], want)
				}
			}
			exec := strings.Join(kv["ExecStart"], " ")
			if !strings.Contains(exec, tt.bin) || !strings.Contains(exec, "/etc/passline/") {
				t.Errorf("ExecStart=%q should run %s with config from /etc/passline", exec, tt.bin)
			}
		})
	}
}

func has(vals []string, want string) bool {
	for _, v := range vals {
		if strings.Contains(v, want) {
			return true
		}
	}
	return false
}

// TestVerify runs systemd-analyze verify where it is installed. It reports
// every problem except the binaries' absence from /usr/local/bin.
func TestVerify(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze not installed")
	}
	files, _ := filepath.Glob("*.service")
	out, _ := exec.Command("systemd-analyze", append([]string{"verify"}, files...)...).CombinedOutput()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line == "" || strings.Contains(line, "is not executable: No such file") {
			continue
		}
		t.Errorf("systemd-analyze: %s", line)
	}
}
