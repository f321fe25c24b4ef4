package agent_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestPartsImportOnlyTheDomain: the uplink drains an agent.Outbox and
// knows nothing of bbolt or the writer; the MQTT and GPIO sources hand
// agent.Inputs to a function and import neither the writer nor the state
// db. Each part depends on package agent, not on another part.
func TestPartsImportOnlyTheDomain(t *testing.T) {
	const mod = "github.com/passline/passline/agent/"
	tests := []struct {
		pkg       string
		forbidden []string
	}{
		{"./uplink", []string{"go.etcd.io/bbolt", mod + "bolt", mod + "ingest"}},
		{"./mqtt", []string{mod + "bolt", mod + "ingest", mod + "uplink"}},
		{"./gpio", []string{"go.etcd.io/bbolt", mod + "bolt", mod + "ingest", mod + "uplink"}},
		{"./configsync", []string{"go.etcd.io/bbolt", mod + "bolt", mod + "ingest", mod + "uplink"}},
		{"./priorsync", []string{"go.etcd.io/bbolt", mod + "bolt", mod + "ingest", mod + "uplink"}},
		{"./kvwatch", []string{"go.etcd.io/bbolt", mod + "bolt", mod + "ingest", mod + "uplink"}},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", tt.pkg).Output()
			if err != nil {
				t.Fatalf("go list -deps %s: %v", tt.pkg, err)
			}
			deps := strings.Fields(string(out))
			for _, f := range tt.forbidden {
				if slices.Contains(deps, f) {
					t.Errorf("%s depends on %s", tt.pkg, f)
				}
			}
		})
	}
}
