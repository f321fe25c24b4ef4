package app_test

import (
	"testing"

	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/internal/service"

	"github.com/passline/passline/agent/app"
)

var _ service.Checker = (*app.Main)(nil)

// Alive holds while the state db answers and fails once it is closed.
func TestAliveFollowsStateDB(t *testing.T) {
	n := at.StartNATS(t, t.TempDir(), -1)
	m := startAgent(t, testConfig("sd-1", n.URL(), t.TempDir()))
	if err := m.Alive(); err != nil {
		t.Fatalf("running agent: %v", err)
	}
	if err := m.DB.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Alive(); err == nil {
		t.Fatal("alive with the state db closed")
	}
}
