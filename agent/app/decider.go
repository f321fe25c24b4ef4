package app

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/bolt"
	"github.com/passline/passline/agent/config"
	"github.com/passline/passline/agent/modelcmd"
	"github.com/passline/passline/agent/rules"
)

// DefaultDecider builds the Decider the agent uses when Main.Decider and
// Main.NewDecider are nil: the rules engine (agent/rules) over cfg.Params
// and cfg.Rules (the default rules when none are configured), with the
// store's prep-time model loaded from the state db (bucket "model", key =
// store). A rule that does not compile stops the agent with the rule's
// name, position and reason. A stored model that cannot be decoded (a
// corrupt value, a format from another version) is logged and replaced by
// the priors, so the kitchen keeps running; the next save overwrites it.
//
// The engine implements agent.Learner and encoding.BinaryMarshaler, so the
// writer teaches it every completed order and saves the model in the same
// transaction.
func DefaultDecider(cfg config.Config, db *bolt.DB) (agent.Decider, error) {
	e, err := rules.New(cfg.Params, cfg.Rules)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	e.SetStoreTags(rules.StoreTags{Category: cfg.Category, City: cfg.City})
	b, err := db.LoadModel(cfg.Store)
	if err != nil {
		return nil, fmt.Errorf("load model of store %s: %w", cfg.Store, err)
	}
	if b != nil {
		if err := e.UnmarshalBinary(b); err != nil {
			slog.Warn("stored prep-time model unreadable; starting from priors", "store", cfg.Store, "err", err)
		}
	}
	return e, nil
}

// warmModel learns Config.Model.WarmHistory into the state db when it holds
// no model for the store yet.
func (m *Main) warmModel() error {
	path, store := m.Config.Model.WarmHistory, m.Config.Store
	if path == "" {
		return nil
	}
	b, err := m.DB.LoadModel(store)
	if err != nil {
		return fmt.Errorf("load model of store %s: %w", store, err)
	}
	if b != nil {
		return nil
	}
	var report strings.Builder
	if err := modelcmd.Warm(path, store, modelcmd.BoltSaver{DB: m.DB}, &report); err != nil {
		return fmt.Errorf("model.warm_history: %w", err)
	}
	m.Log.Info("prep-time model warmed from history", "history", path, "report", strings.TrimSpace(report.String()))
	return nil
}
