package wire

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Limits of a store config (StoreConfig.Validate).
const (
	MaxRules    = 32   // rules in one store config
	MaxRuleExpr = 1000 // bytes in one rule condition
)

// Locales are the languages Passline writes rider messages in: those a
// store config may name, and the relay has templates for.
var Locales = []string{"zh-CN", "en"}

// StoreConfig is what the cloud keeps under key {store} of KV BucketConfig
// and the store's agent applies live: parameters, rules and the locale of
// rider messages. A parameter left out, or rules left empty, keeps the
// agent's own file config for it. The agent checks more than Validate does:
// it compiles the rules and refuses the whole config if one does not.
type StoreConfig struct {
	V      int         `json:"v,omitempty"` // Version; 0 in an API body means Version
	Params StoreParams `json:"params,omitzero"`
	Rules  []StoreRule `json:"rules,omitempty"`
	Locale string      `json:"locale,omitempty"`
}

// StoreParams are the product's decision parameters; nil keeps the agent's.
type StoreParams struct {
	PredictionWindow    *Duration `json:"prediction_window,omitempty"`
	ConfidenceThreshold *float64  `json:"confidence_threshold,omitempty"`
	RetryInterval       *Duration `json:"retry_interval,omitempty"`
	LeadTime            *Duration `json:"lead_time,omitempty"`
}

// StoreRule is one condition → action rule (see agent/rules).
type StoreRule struct {
	Name string       `json:"name"`
	When string       `json:"when"`
	Emit DecisionKind `json:"emit"`
}

// Duration is a Go duration string in JSON ("90s", "5m"); Validate checks
// that it parses, naming the field.
type Duration string

// Value parses the duration.
func (d Duration) Value() (time.Duration, error) {
	v, err := time.ParseDuration(string(d))
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration like \"90s\" or \"5m\"", string(d))
	}
	return v, nil
}

// Validate checks every field the cloud can check without the agent's rule
// compiler; the *Error names the field (params.lead_time, rules[2].emit).
func (c *StoreConfig) Validate() error {
	if c.V != 0 && c.V != Version {
		return &Error{Reason: ReasonVersion, Field: "v", Msg: fmt.Sprintf("v is %d; send %d", c.V, Version)}
	}
	if err := c.Params.validate(); err != nil {
		return err
	}
	if len(c.Rules) > MaxRules {
		return invalid("rules", "%d rules; at most %d", len(c.Rules), MaxRules)
	}
	names := map[string]bool{}
	for i, r := range c.Rules {
		f := fmt.Sprintf("rules[%d]", i)
		switch {
		case r.Name == "" || len(r.Name) > 64:
			return invalid(f+".name", "must be 1-64 characters")
		case names[r.Name]:
			return invalid(f+".name", "duplicate rule name %q", r.Name)
		case strings.TrimSpace(r.When) == "" || len(r.When) > MaxRuleExpr:
			return invalid(f+".when", "must be 1-%d bytes", MaxRuleExpr)
		case !r.Emit.Valid():
			return invalid(f+".emit", "%q is not one of %v", r.Emit, Kinds)
		}
		names[r.Name] = true
	}
	if c.Locale != "" && !slices.Contains(Locales, c.Locale) {
		return invalid("locale", "%q is not one of %v", c.Locale, Locales)
	}
	return nil
}

func (p StoreParams) validate() error {
	between := func(field string, d *Duration, lo, hi time.Duration) error {
		if d == nil {
			return nil
		}
		v, err := d.Value()
		if err != nil {
			return invalid("params."+field, "%v", err)
		}
		if v < lo || v > hi {
			return invalid("params."+field, "%v is not in [%v, %v]", v, lo, hi)
		}
		return nil
	}
	if err := between("prediction_window", p.PredictionWindow, time.Second, 2*time.Hour); err != nil {
		return err
	}
	if t := p.ConfidenceThreshold; t != nil && (!(*t > 0) || *t > 1) {
		return invalid("params.confidence_threshold", "%v is not in (0, 1]", *t)
	}
	if err := between("retry_interval", p.RetryInterval, time.Second, 10*time.Minute); err != nil {
		return err
	}
	return between("lead_time", p.LeadTime, 0, 2*time.Hour)
}

// DecodeStoreConfig decodes and validates a stored config (as the agent
// reads it from KV) like every other message, except that unknown fields
// are refused and a missing v means Version.
func DecodeStoreConfig(b []byte) (StoreConfig, error) {
	var c StoreConfig
	err := decodeStrict(b, &c, func() int {
		if c.V == 0 {
			return Version
		}
		return c.V
	})
	return c, err
}

// ConfigStatus is what an agent writes under its store's key of KV
// BucketConfigStatus after each config it sees: the revision it runs on,
// and the last one it refused, with the reason naming the field or rule.
type ConfigStatus struct {
	V     int    `json:"v"`
	Store string `json:"store"`
	// Revision is the KV revision of the config the agent applied last;
	// 0 while it runs on its file config only.
	Revision  uint64    `json:"revision"`
	AppliedAt time.Time `json:"applied_at,omitzero"`
	// RefusedRevision is the last revision the agent refused, if it is
	// newer than Revision; Reason says why (field or rules[i] with line).
	RefusedRevision uint64    `json:"refused_revision,omitempty"`
	RefusedAt       time.Time `json:"refused_at,omitzero"`
	Reason          string    `json:"reason,omitempty"`
}
