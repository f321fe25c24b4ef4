package rules

import (
	"encoding"
	"fmt"
	"sync"
	"time"

	"github.com/expr-lang/expr/vm"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/predict"
	"github.com/passline/passline/wire"
)

// How long decisions stay deliverable. A countdown is stale soon; ready
// and cancelled matter until the order is surely collected.
const (
	TTLCritical = 2 * time.Hour
	TTLAdvisory = 30 * time.Minute
	// EarlyReady is how soon after its ticket a ready is flagged
	// wire.FlagEarlyReady (platforms like Meituan reject those).
	EarlyReady = time.Minute
)

var (
	_ agent.Decider            = (*Engine)(nil)
	_ agent.Learner            = (*Engine)(nil)
	_ encoding.BinaryMarshaler = (*Engine)(nil)
)

// Engine decides what to tell riders by evaluating compiled rules over an
// order and one store's prep-time model. It implements agent.Decider and
// agent.Learner, and encoding.BinaryMarshaler/BinaryUnmarshaler for the
// model, so the agent saves what it learned in the state db. It is safe for
// concurrent use; Decide and Learn take a mutex for microseconds.
type Engine struct {
	mu      sync.Mutex
	params  agent.Params
	progs   []Program
	model   *predict.Model
	vm      vm.VM
	blocked int64 // ready decisions refused because no kitchen event moved the order
	failed  int64 // rule evaluations that returned an error
	learned learnedSet
	tags    StoreTags
	queues  map[string]*kitchenQueue // per ticket station (queueFor)
	// queueOff leaves the kitchen queues out of every decision (tests
	// compare the rules with and without them).
	queueOff bool
}

// StoreTags are the store's category and city, told to the cloud on every
// ready decision (wire.OrderFacts) so it can fit the fleet prior from the
// decisions it already receives.
type StoreTags struct {
	Category string
	City     string
}

// SetStoreTags sets the tags ready decisions carry from now on.
func (e *Engine) SetStoreTags(t StoreTags) {
	e.mu.Lock()
	e.tags = t
	e.mu.Unlock()
}

// New compiles rules (DefaultRules when empty) over params. The model
// starts from its priors; load a saved one with UnmarshalBinary.
func New(params agent.Params, rules []agent.Rule) (*Engine, error) {
	if len(rules) == 0 {
		rules = DefaultRules()
	}
	progs, err := Compile(rules)
	if err != nil {
		return nil, err
	}
	return &Engine{params: params, progs: progs, model: predict.New()}, nil
}

// MarshalBinary encodes the model.
func (e *Engine) MarshalBinary() ([]byte, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.model.MarshalBinary()
}

// UnmarshalBinary replaces the model with a saved one; on error the
// current model is kept.
func (e *Engine) UnmarshalBinary(b []byte) error {
	m := predict.New()
	if err := m.UnmarshalBinary(b); err != nil {
		return err
	}
	e.mu.Lock()
	e.model = m
	e.mu.Unlock()
	return nil
}

// Learned is how many completed orders the model has learned from.
func (e *Engine) Learned() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.model.Learned()
}

// BlockedReady counts ready decisions a rule asked for without a kitchen
// event that moved the order to done or packed; they were not emitted.
func (e *Engine) BlockedReady() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.blocked
}

// FailedEvals counts rule evaluations that failed at run time (a type
// checked rule can still, say, index out of range); such a rule is skipped
// for that order and evaluation.
func (e *Engine) FailedEvals() int64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.failed
}

// Decide implements agent.Decider: it evaluates every rule in order and
// returns the decisions of those whose condition holds, at most one per
// rule, updating o.Sent and o.Seq. A rule whose evaluation fails is skipped
// and counted (FailedEvals). When a kitchen event has just made the order
// ready, the model learns it then (once; see Learn).
func (e *Engine) Decide(o *agent.Order, t agent.Trigger) []wire.Decision {
	e.mu.Lock()
	defer e.mu.Unlock()
	st := e.state(o, t)
	var out []wire.Decision
	for i := range e.progs {
		p := &e.progs[i]
		res, err := e.vm.Run(p.prog, &st.env)
		if err != nil {
			e.failed++
			continue
		}
		if res != true {
			continue
		}
		if p.Rule.Emit == wire.KindReady && st.env.Transition == "" {
			e.blocked++
			continue
		}
		out = append(out, st.decision(p.Rule, p.kitchen, e.params))
	}
	if st.env.Transition != "" {
		e.learnReady(o)
	}
	return out
}

// String names the rule and what it emits.
func (p Program) String() string { return fmt.Sprintf("rule %q emits %s", p.Rule.Name, p.Rule.Emit) }
