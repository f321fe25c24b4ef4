package rules

import (
	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/predict"
)

// Reconfigure compiles rules (DefaultRules when empty) and, only when every
// one compiles, makes them and params the engine's, between two decisions.
// The model, what it learned and the counters are kept. On error nothing
// changes and the error is the joined *RuleError list Compile returns.
func (e *Engine) Reconfigure(params agent.Params, rules []agent.Rule) error {
	if len(rules) == 0 {
		rules = DefaultRules()
	}
	progs, err := Compile(rules)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.params, e.progs = params, progs
	e.mu.Unlock()
	return nil
}

// Params returns the parameters the engine decides with now.
func (e *Engine) Params() agent.Params {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.params
}

// SetPrior makes p, with the offset of the store's city (StoreTags.City)
// when it has one, the fleet prior of the engine's model, between two
// decisions; what the model learned is kept and reread against it. A
// malformed prior is refused and the current one kept.
func (e *Engine) SetPrior(p *predict.Prior) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p != nil {
		p = p.ForCity(e.tags.City)
	}
	return e.model.SetPrior(p)
}

// Prior is the fleet prior the engine's model starts from.
func (e *Engine) Prior() predict.Prior {
	e.mu.Lock()
	defer e.mu.Unlock()
	return *e.model.Prior()
}
