package config

import (
	"fmt"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/wire"
)

// WithStore returns c with the store config sc laid over it: each
// parameter sc sets replaces c's, and non-empty sc.Rules replace c.Rules.
// The result is validated in full, rules compiled, so an error names the
// field or the rule (rules[i] "name": line L, column C: reason) and c is
// left as it was: the agent keeps deciding on the config it has.
func (c Config) WithStore(sc wire.StoreConfig) (Config, error) {
	if err := sc.Validate(); err != nil {
		return c, err
	}
	n := c
	p := &n.Params
	setDur(&p.PredictionWindow, sc.Params.PredictionWindow)
	setDur(&p.RetryInterval, sc.Params.RetryInterval)
	setDur(&p.LeadTime, sc.Params.LeadTime)
	if sc.Params.ConfidenceThreshold != nil {
		p.ConfidenceThreshold = *sc.Params.ConfidenceThreshold
	}
	if len(sc.Rules) > 0 {
		n.Rules = make([]agent.Rule, len(sc.Rules))
		for i, r := range sc.Rules {
			n.Rules[i] = agent.Rule{Name: r.Name, When: r.When, Emit: r.Emit}
		}
	}
	if err := n.Validate(); err != nil {
		return c, fmt.Errorf("store config: %w", err)
	}
	return n, nil
}

func setDur(dst *time.Duration, d *wire.Duration) {
	if d != nil {
		if v, err := d.Value(); err == nil { // StoreConfig.Validate checked it
			*dst = v
		}
	}
}
