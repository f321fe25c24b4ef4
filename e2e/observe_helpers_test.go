package e2e_test

import (
	"context"
	"log/slog"
	"testing"

	agentapp "github.com/passline/passline/agent/app"
	agentconfig "github.com/passline/passline/agent/config"
	cloudapp "github.com/passline/passline/cloud/app"
	cloudconfig "github.com/passline/passline/cloud/config"
)

// startCloudWith runs a relay whose logs go to log.
func startCloudWith(t *testing.T, c cloudconfig.Config, log *slog.Logger) *cloudapp.Main {
	t.Helper()
	m := cloudapp.NewMain()
	m.Config, m.Logger = c, log
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("cloud: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// startAgentWith runs an agent whose logs go to log. Run gets a context
// that is never cancelled: the agent's writer and uplink stop when Run's
// context ends.
func startAgentWith(t *testing.T, c agentconfig.Config, log *slog.Logger) *agentapp.Main {
	t.Helper()
	m := agentapp.NewMain()
	m.Config, m.Log = c, log
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("agent: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}
