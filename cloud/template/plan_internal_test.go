package template

import (
	"strings"
	"testing"
)

// TestPlanRendersAsTextTemplate: every template with a plan renders what
// text/template renders, on data with every slot set, empty and zero.
func TestPlanRendersAsTextTemplate(t *testing.T) {
	set, err := NewSet()
	if err != nil {
		t.Fatal(err)
	}
	var srcs []string
	for _, tpl := range set.defaults {
		if tpl.plan == nil {
			t.Errorf("default template %q has no plan", tpl.Source)
		}
		srcs = append(srcs, tpl.Source)
	}
	srcs = append(srcs,
		`{{.Kind}} {{.OrderID}} {{.Minutes}} {{.HasMinutes}}{{if .Minutes}} m{{else}} no m{{end}}`,
		`{{if .HasMinutes}}{{.Minutes}}{{else if .Shelf}}shelf {{.Shelf}}{{else}}-{{end}} x {{- .ShortCode -}} y`,
		`{{ .StoreName }}{{if .StoreName}}{{if .Shelf}}[{{.Shelf}}]{{end}}{{end}}`,
	)
	data := []Data{samples[0], samples[1], {}, {Kind: "delayed", Minutes: -3, HasMinutes: true, StoreName: "面馆", Shelf: "B 2"}}
	for _, src := range srcs {
		tpl, err := Compile(src, 1)
		if err != nil {
			t.Fatalf("%q: %v", src, err)
		}
		if tpl.plan == nil {
			t.Errorf("%q has no plan", src)
			continue
		}
		for _, d := range data {
			var want strings.Builder
			if err := tpl.t.Execute(&want, d); err != nil {
				t.Fatal(err)
			}
			var got strings.Builder
			tpl.plan.render(&got, &d)
			if got.String() != want.String() {
				t.Errorf("%q on %+v: plan %q, text/template %q", src, d, got.String(), want.String())
			}
		}
	}
	for _, src := range []string{`{{.StoreName | len}}`, `{{$x := .Shelf}}{{$x}}`, `{{with .Shelf}}{{.}}{{end}}`, `{{"lit"}}`, `{{if not .Shelf}}x{{end}}`} {
		tpl, err := Compile(src, 1)
		if err != nil {
			continue
		}
		if tpl.plan != nil {
			t.Errorf("%q has a plan; only text, fields and if on a field do", src)
		}
	}
}
