package app_test

import (
	"testing"

	"github.com/passline/passline/cloud/app"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/internal/service"
)

var _ service.Checker = (*app.Main)(nil)

// Alive holds while the relay runs and fails once it is closed.
func TestAliveFollowsNATS(t *testing.T) {
	m := relaytest.MustRun(t, relaytest.Config(t.TempDir()))
	if err := m.Alive(); err != nil {
		t.Fatalf("running relay: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := m.Alive(); err == nil {
		t.Fatal("alive after Close")
	}
}
