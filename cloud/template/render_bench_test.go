package template_test

import (
	"testing"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/template"
	"github.com/passline/passline/wire"
)

// BenchmarkRender renders the default ready text, as the relay does for
// every decision.
func BenchmarkRender(b *testing.B) {
	s, err := template.NewSet()
	if err != nil {
		b.Fatal(err)
	}
	f := cloud.Facts{Kind: wire.KindReady, Locale: "en", ShortCode: "#12", StoreName: "Noodle Bar", Shelf: "A3"}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.Render("m1", f, "o-12"); err != nil {
			b.Fatal(err)
		}
	}
}
