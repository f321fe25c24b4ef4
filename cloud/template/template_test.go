package template_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/template"
	"github.com/passline/passline/wire"
)

func minutes(m int) *int { return &m }

func TestDefaultsCoverEveryKindAndLocale(t *testing.T) {
	s, err := template.NewSet()
	if err != nil {
		t.Fatal(err)
	}
	for _, loc := range wire.Locales {
		for _, k := range wire.Kinds {
			text, v, err := s.Render("m1", cloud.Facts{Kind: k, Locale: loc, ShortCode: "#12", StoreName: "Noodle", Minutes: minutes(4)}, "o1")
			if err != nil || v != 0 || !strings.Contains(text, "#12") {
				t.Errorf("%s/%s: %q v%d %v", loc, k, text, v, err)
			}
		}
	}
	text, _, _ := s.Render("m1", cloud.Facts{Kind: wire.KindReady, Locale: "zh-CN", StoreName: "面馆", Shelf: "A3"}, "o1")
	if want := "面馆 订单 o1 已出餐，可以取餐（取餐架 A3）"; text != want {
		t.Errorf("zh-CN ready = %q, want %q", text, want)
	}
}

func TestMerchantOverrideAndVersions(t *testing.T) {
	s, _ := template.NewSet()
	k := template.Key{Merchant: "m1", Kind: wire.KindReady, Locale: "en"}
	f := cloud.Facts{Kind: wire.KindReady, Locale: "en", ShortCode: "#7"}
	if err := s.Put(k, "v2 {{.ShortCode}}", 2); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(k, "v1 {{.ShortCode}}", 1); err != nil { // older: ignored
		t.Fatal(err)
	}
	if text, v, _ := s.Render("m1", f, "o"); text != "v2 #7" || v != 2 {
		t.Fatalf("got %q v%d", text, v)
	}
	if text, _, _ := s.Render("m2", f, "o"); !strings.HasPrefix(text, " order #7") && !strings.Contains(text, "ready for pickup") {
		t.Fatalf("other merchant got %q", text)
	}
	s.Delete(k)
	if _, v, _ := s.Render("m1", f, "o"); v != 0 {
		t.Fatalf("after delete version %d", v)
	}
}

func TestBadTemplateRefusedWithLine(t *testing.T) {
	s, _ := template.NewSet()
	k := template.Key{Merchant: "m1", Kind: wire.KindETA, Locale: "en"}
	if err := s.Put(k, "good {{.Minutes}}", 5); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		src  string
		line int
		says string
	}{
		{"line one\nline two {{.ShortCode", 2, "unclosed action"},
		{"a\nb\n{{if .Shelf}}open", 3, "unexpected EOF"},
		{"{{.NoSuchSlot}}", 1, "NoSuchSlot"},
		{"", 0, "1-2048 bytes"},
		{"x\n{{range 1000000000}}{{end}}", 2, "range is not allowed"},
		{"{{if .Shelf}}{{else}}{{range .Kind}}{{end}}{{end}}", 1, "range is not allowed"},
		{"{{printf \"%999999999d\" 1}}", 1, "printf is not allowed"},
		{"{{define \"x\"}}y{{end}}z", 0, "define"},
		{strings.Repeat("x", 3000), 0, "1-2048 bytes"},
	} {
		err := s.Put(k, tc.src, 6)
		var pe *template.ParseError
		if !errors.As(err, &pe) || pe.Line != tc.line || !strings.Contains(pe.Reason, tc.says) {
			t.Errorf("%q: err = %#v, want line %d saying %q", tc.src, err, tc.line, tc.says)
		}
	}
	if text, v, _ := s.Render("m1", cloud.Facts{Kind: wire.KindETA, Locale: "en", Minutes: minutes(3)}, "o"); text != "good 3" || v != 5 {
		t.Fatalf("live template after refusals: %q v%d", text, v)
	}
}

func TestParseKey(t *testing.T) {
	for key, ok := range map[string]bool{"m1.ready.en": true, "m1.eta.zh-CN": true, "m1.ready.fr": false, "m1.nope.en": false, "m1.ready": false, "m.1.ready.en": false} {
		if _, err := template.ParseKey(key); (err == nil) != ok {
			t.Errorf("ParseKey(%q) err = %v", key, err)
		}
	}
}

// FuzzCompile: merchant templates are outside bytes. Compile never panics,
// and a template it accepts renders without error.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{"{{.ShortCode}} ready", "{{if .HasMinutes}}{{.Minutes}}{{end}}x", "{{", "{{.X}}", "{{range .Kind}}{{end}}", "{{template \"x\"}}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tpl, err := template.Compile(src, 1)
		if err != nil {
			return
		}
		if _, err := tpl.Execute(template.Data{Kind: "ready", OrderID: "o1", ShortCode: "o1", StoreName: "s1"}); err != nil {
			t.Fatalf("accepted template %q fails: %v", src, err)
		}
	})
}
