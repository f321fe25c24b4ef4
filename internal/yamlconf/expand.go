package yamlconf

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// expandNode expands variables in every scalar value below n; mapping
// keys are left alone.
func expandNode(n *yaml.Node, lookup func(string) (string, bool)) error {
	switch n.Kind {
	case yaml.ScalarNode:
		return expandScalar(n, lookup)
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			if err := expandNode(n.Content[i], lookup); err != nil {
				return err
			}
		}
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			if err := expandNode(c, lookup); err != nil {
				return err
			}
		}
	}
	return nil
}

func expandScalar(n *yaml.Node, lookup func(string) (string, bool)) error {
	if !strings.Contains(n.Value, "$") {
		return nil
	}
	v, err := Expand(n.Value, lookup)
	if err != nil {
		return fmt.Errorf("config line %d: %w", n.Line, err)
	}
	n.Value = v
	if n.Style == 0 { // plain: typed again after expansion
		n.Tag = ""
	}
	return nil
}

// Expand replaces ${VAR} and ${VAR:-default} in s with lookup's values
// and $$ with $; any other $ stays. An unset ${VAR}, an unterminated ${
// and a name that is not [A-Za-z_][A-Za-z0-9_]* are errors.
func Expand(s string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i == len(s)-1 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			s = s[i+2:]
		case '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				return "", fmt.Errorf("unterminated ${ in %q; write $$ for a literal $", s[i:])
			}
			v, err := variable(s[i+2:i+end], lookup)
			if err != nil {
				return "", err
			}
			b.WriteString(v)
			s = s[i+end+1:]
		default:
			b.WriteByte('$')
			s = s[i+1:]
		}
	}
}

// variable is the value of expr, "NAME" or "NAME:-default".
func variable(expr string, lookup func(string) (string, bool)) (string, error) {
	name, def, hasDef := strings.Cut(expr, ":-")
	if !validName(name) {
		return "", fmt.Errorf("${%s}: %q is not a variable name; write $$ for a literal $", expr, name)
	}
	v, ok := lookup(name)
	switch {
	case hasDef && v == "":
		return def, nil
	case !ok:
		return "", fmt.Errorf("${%s} is not set; set it, or write ${%s:-} for an optional value", name, name)
	}
	return v, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		letter := r == '_' || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return true
}
