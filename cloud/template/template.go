// Package template renders rider notification texts with Go text/template:
// defaults per kind and locale ship in the binary, and each merchant may
// override any (kind, locale) with its own versioned template. A template
// that does not parse, or fails on sample facts, is refused with its line
// and reason, and the version already live stays live.
package template

import (
	"embed"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	texttemplate "text/template"
	"text/template/parse"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/wire"
)

// MaxLen is the longest template source accepted, in bytes.
const MaxLen = 2048

//go:embed defaults/*.yaml
var defaultFS embed.FS

// Data is what a template sees: {{.ShortCode}}, {{.StoreName}},
// {{.Minutes}} (0 when unknown; test {{.HasMinutes}}), {{.Shelf}}, {{.OrderID}}.
type Data struct {
	Kind       string
	OrderID    string
	ShortCode  string
	StoreName  string
	Minutes    int
	HasMinutes bool
	Shelf      string
}

// DataOf turns facts into template data; orderID stands in for a missing short code.
func DataOf(f cloud.Facts, orderID string) Data {
	d := Data{Kind: string(f.Kind), OrderID: orderID, ShortCode: f.ShortCode, StoreName: f.StoreName, Shelf: f.Shelf}
	if d.ShortCode == "" {
		d.ShortCode = orderID
	}
	if f.Minutes != nil {
		d.Minutes, d.HasMinutes = *f.Minutes, true
	}
	return d
}

// ParseError is a refused template: the line and what is wrong.
type ParseError struct {
	Line   int // 1-based; 0 when the problem has no line (size, execution)
	Reason string
}

func (e *ParseError) Error() string {
	if e.Line == 0 {
		return "template: " + e.Reason
	}
	return fmt.Sprintf("template line %d: %s", e.Line, e.Reason)
}

// Template is one compiled template with the version it came from.
type Template struct {
	Version uint64
	Source  string
	t       *texttemplate.Template
	plan    plan // nil: rendered by t
}

// samples are what Compile tries a template on: every slot set, and only
// the slots that are always set.
var samples = []Data{
	{Kind: "eta", OrderID: "o1", ShortCode: "#1", StoreName: "Store", Minutes: 4, HasMinutes: true, Shelf: "A1"},
	{Kind: "ready", OrderID: "o1", ShortCode: "o1", StoreName: "s1"},
}

var lineRE = regexp.MustCompile(`^template: [^:]*:(\d+):(?:\d+:)?\s*(.*)$`)

// Compile parses src and executes it once on sample data so an unknown
// slot is refused now, not when a rider is waiting.
func Compile(src string, version uint64) (*Template, error) {
	if len(src) == 0 || len(src) > MaxLen {
		return nil, &ParseError{Reason: fmt.Sprintf("must be 1-%d bytes", MaxLen)}
	}
	t, err := texttemplate.New("t").Option("missingkey=error").Funcs(denied).Parse(src)
	if err != nil {
		return nil, parseError(err)
	}
	if err := checkNodes(t.Tree.Root); err != nil {
		return nil, err
	}
	if len(t.Templates()) > 1 {
		return nil, &ParseError{Reason: "define and block are not allowed"}
	}
	tpl := &Template{Version: version, Source: src, t: t}
	if p, ok := compilePlan(t.Tree.Root); ok && len(p) > 0 {
		tpl.plan = p
	}
	for _, sample := range samples {
		out := &limitedWriter{max: 4096}
		if err := t.Execute(out, sample); err != nil {
			return nil, parseError(err)
		}
		if strings.TrimSpace(out.String()) == "" {
			return nil, &ParseError{Reason: "renders an empty text"}
		}
	}
	return tpl, nil
}

// denied replaces the formatting builtins: a width like %999999999d
// would allocate without bound.
var denied = texttemplate.FuncMap{
	"printf":  func(...any) (string, error) { return "", errors.New("printf is not allowed") },
	"print":   func(...any) (string, error) { return "", errors.New("print is not allowed") },
	"println": func(...any) (string, error) { return "", errors.New("println is not allowed") },
}

// checkNodes refuses range and template calls: a rider text needs neither,
// and a range over a large number would stall the relay.
func checkNodes(n parse.Node) error {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return nil
		}
		for _, c := range n.Nodes {
			if err := checkNodes(c); err != nil {
				return err
			}
		}
	case *parse.RangeNode:
		return &ParseError{Line: n.Line, Reason: "range is not allowed"}
	case *parse.TemplateNode:
		return &ParseError{Line: n.Line, Reason: "template calls are not allowed"}
	case *parse.IfNode:
		return checkBranch(&n.BranchNode)
	case *parse.WithNode:
		return checkBranch(&n.BranchNode)
	}
	return nil
}

func checkBranch(b *parse.BranchNode) error {
	if err := checkNodes(b.List); err != nil {
		return err
	}
	if b.ElseList != nil {
		return checkNodes(b.ElseList)
	}
	return nil
}

// limitedWriter fails once more than max bytes are written.
type limitedWriter struct {
	strings.Builder
	max int
}

func (w *limitedWriter) Write(p []byte) (int, error) {
	if w.Len()+len(p) > w.max {
		return 0, errors.New("renders more than 4096 bytes")
	}
	return w.Builder.Write(p)
}

func parseError(err error) *ParseError {
	msg := err.Error()
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &ParseError{Line: line, Reason: m[2]}
	}
	return &ParseError{Reason: strings.TrimPrefix(msg, "template: ")}
}

// Execute renders the template.
func (t *Template) Execute(d Data) (string, error) {
	var b strings.Builder
	b.Grow(256) // a rider's text mostly fits: one allocation instead of the builder's growing
	if t.plan != nil {
		t.plan.render(&b, &d)
	} else if err := t.t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("render template v%d: %w", t.Version, err)
	}
	if strings.TrimSpace(b.String()) == "" {
		return "", errors.New("template rendered an empty text")
	}
	return b.String(), nil
}

// Key names a template: merchant, kind, locale.
type Key struct {
	Merchant string
	Kind     wire.DecisionKind
	Locale   string
}

// String is the KV key: {merchant}.{kind}.{locale}.
func (k Key) String() string { return k.Merchant + "." + string(k.Kind) + "." + k.Locale }

// ParseKey parses {merchant}.{kind}.{locale} and checks each part.
func ParseKey(s string) (Key, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return Key{}, fmt.Errorf("template key %q is not {merchant}.{kind}.{locale}", s)
	}
	k := Key{Merchant: parts[0], Kind: wire.DecisionKind(parts[1]), Locale: parts[2]}
	return k, k.Validate()
}

// Validate checks the key's parts.
func (k Key) Validate() error {
	if !wire.ValidToken(k.Merchant) {
		return fmt.Errorf("merchant %q is not a token", k.Merchant)
	}
	if !k.Kind.Valid() {
		return fmt.Errorf("kind %q is unknown", k.Kind)
	}
	if !validLocale(k.Locale) {
		return fmt.Errorf("locale %q is not one of %v", k.Locale, wire.Locales)
	}
	return nil
}

func validLocale(l string) bool { return l == "zh-CN" || l == "en" }
