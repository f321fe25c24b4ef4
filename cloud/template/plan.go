package template

import (
	"strconv"
	"strings"
	"text/template/parse"
)

// A plan renders a template made only of text, {{.Field}} and
// {{if .Field}}...{{else}}...{{end}} (every default and most merchants'
// texts) without text/template's reflection: the same output (fields
// printed as fmt.Print prints them, a field true when it is not its zero
// value), a few times faster and with fewer allocations. The relay renders
// every decision. A template with anything else (pipelines, functions,
// variables, with, nested fields) has no plan and runs in text/template.
type plan []step

// step is one piece of a plan: text, a field printed, or a branch on a
// field.
type step struct {
	text        string
	field       int // index into Data's fields, or -1 for text
	then, else_ plan
	branch      bool
}

// Data's fields by name, as a template names them.
var dataFields = map[string]int{"Kind": 0, "OrderID": 1, "ShortCode": 2, "StoreName": 3, "Minutes": 4, "HasMinutes": 5, "Shelf": 6}

// compilePlan returns the plan of list, or false when it has none.
func compilePlan(list *parse.ListNode) (plan, bool) {
	if list == nil {
		return nil, true
	}
	var p plan
	for _, n := range list.Nodes {
		switch n := n.(type) {
		case *parse.TextNode:
			p = append(p, step{text: string(n.Text), field: -1})
		case *parse.ActionNode:
			f, ok := dotField(n.Pipe)
			if !ok {
				return nil, false
			}
			p = append(p, step{field: f})
		case *parse.IfNode:
			f, ok := dotField(n.Pipe)
			if !ok {
				return nil, false
			}
			then, ok := compilePlan(n.List)
			if !ok {
				return nil, false
			}
			els, ok := compilePlan(n.ElseList)
			if !ok {
				return nil, false
			}
			p = append(p, step{field: f, branch: true, then: then, else_: els})
		default:
			return nil, false
		}
	}
	return p, true
}

// dotField is the field of a pipeline that is a single {{.Field}}.
func dotField(pipe *parse.PipeNode) (int, bool) {
	if pipe == nil || len(pipe.Decl) != 0 || len(pipe.Cmds) != 1 || len(pipe.Cmds[0].Args) != 1 {
		return 0, false
	}
	f, ok := pipe.Cmds[0].Args[0].(*parse.FieldNode)
	if !ok || len(f.Ident) != 1 {
		return 0, false
	}
	i, ok := dataFields[f.Ident[0]]
	return i, ok
}

func (p plan) render(b *strings.Builder, d *Data) {
	for _, s := range p {
		switch {
		case s.field < 0:
			b.WriteString(s.text)
		case s.branch:
			if d.truth(s.field) {
				s.then.render(b, d)
			} else {
				s.else_.render(b, d)
			}
		default:
			d.print(b, s.field)
		}
	}
}

func (d *Data) truth(field int) bool {
	switch field {
	case 4:
		return d.Minutes != 0
	case 5:
		return d.HasMinutes
	}
	return d.str(field) != ""
}

func (d *Data) print(b *strings.Builder, field int) {
	switch field {
	case 4:
		var buf [20]byte
		b.Write(strconv.AppendInt(buf[:0], int64(d.Minutes), 10))
	case 5:
		b.WriteString(strconv.FormatBool(d.HasMinutes))
	default:
		b.WriteString(d.str(field))
	}
}

func (d *Data) str(field int) string {
	switch field {
	case 0:
		return d.Kind
	case 1:
		return d.OrderID
	case 2:
		return d.ShortCode
	case 3:
		return d.StoreName
	}
	return d.Shelf
}
