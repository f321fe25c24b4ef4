package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/wire"
)

// Program is one compiled rule.
type Program struct {
	Rule agent.Rule
	prog *vm.Program
	// kitchen: the condition depends on the kitchen event (transition,
	// event or started), so a decision it makes on an event names that
	// event (EventID); a prediction rule's decisions name none, even when
	// evaluated on an event, so no platform takes them for the kitchen's.
	kitchen bool
}

// RuleError is a rule refused at config load: which rule, where in its
// expression (1-based line and column; 0 when not about a position), and
// why.
type RuleError struct {
	Index  int    // position of the rule in the list, 0-based
	Name   string // the rule's name
	Line   int
	Column int
	Reason string
}

func (e *RuleError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("rules[%d] %q: line %d, column %d: %s", e.Index, e.Name, e.Line, e.Column, e.Reason)
	}
	return fmt.Sprintf("rules[%d] %q: %s", e.Index, e.Name, e.Reason)
}

// Compile type-checks every rule against the rule environment (see the
// package doc) and returns them compiled, or every refusal joined, each a
// *RuleError. A rule must have a unique name, a known emit kind and a
// boolean condition; a rule that emits ready must depend on the kitchen
// event (refer to transition or event), because only a real kitchen event
// may tell a rider the food is ready.
func Compile(rules []agent.Rule) ([]Program, error) {
	var errs []error
	out := make([]Program, 0, len(rules))
	names := map[string]bool{}
	for i, r := range rules {
		refuse := func(format string, args ...any) {
			errs = append(errs, &RuleError{Index: i, Name: r.Name, Reason: fmt.Sprintf(format, args...)})
		}
		switch {
		case r.Name == "" || len(r.Name) > 64:
			refuse("name must be 1-64 characters")
			continue
		case names[r.Name]:
			refuse("duplicate name")
			continue
		case !r.Emit.Valid():
			refuse("emit %q is not one of %v", r.Emit, wire.Kinds)
			continue
		case strings.TrimSpace(r.When) == "":
			refuse("when is empty")
			continue
		}
		names[r.Name] = true
		p, err := compileOne(r)
		if err != nil {
			var fe *file.Error
			if errors.As(err, &fe) {
				errs = append(errs, &RuleError{Index: i, Name: r.Name, Line: fe.Line, Column: fe.Column + 1, Reason: fe.Message})
			} else {
				refuse("%v", err)
			}
			continue
		}
		if r.Emit == wire.KindReady && !refersTo(p, "transition", "event") {
			refuse("emits ready but its condition does not depend on the kitchen event: only a real bump, pack or scan may report ready; use transition (e.g. transition in [\"done\", \"packed\"])")
			continue
		}
		out = append(out, Program{Rule: r, prog: p, kitchen: refersTo(p, "transition", "event", "started")})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func compileOne(r agent.Rule) (*vm.Program, error) {
	return expr.Compile(r.When, expr.Env(Env{}), expr.AsBool())
}

// refersTo reports whether the program's expression names any identifier
// in names.
func refersTo(p *vm.Program, names ...string) bool {
	found := false
	ast.Find(p.Node(), func(n ast.Node) bool {
		if id, ok := n.(*ast.IdentifierNode); ok {
			for _, name := range names {
				if id.Value == name {
					found = true
				}
			}
		}
		return found
	})
	return found
}
