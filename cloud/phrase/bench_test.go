package phrase_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/passline/passline/cloud/phrase"
)

func BenchmarkVerify(b *testing.B) {
	lim := phrase.Limits{MaxChars: 120, MaxSMSSegments: 1, DenyList: phrase.DefaultDenyList}
	for _, c := range []struct{ locale, text string }{
		{"en", "Hi! Order #23 from Noodle Bar is ready in about 4 minutes, shelf B3."},
		{"zh-CN", "您好，Noodle Bar 的订单 #23 大约 4 分钟后出餐，请到 B3 取餐。"},
	} {
		b.Run(c.locale, func(b *testing.B) {
			f := facts(c.locale)
			for b.Loop() {
				if err := phrase.Verify(f, c.text, lim); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPhraseCacheHit is the cost of a message whose situation the
// model already phrased: no call, unmask and re-verify only.
func BenchmarkPhraseCacheHit(b *testing.B) {
	srv := newModelServer(b, says("Order #23 is ready in about 4 minutes at shelf B3."))
	p, err := phrase.NewModel(config(srv.URL), nil, phrase.Options{})
	if err != nil {
		b.Fatal(err)
	}
	if _, ok := p.Phrase(context.Background(), facts("en"), fallbackText); !ok {
		b.Fatal("warm-up call fell back")
	}
	f := facts("en")
	for i := 0; b.Loop(); i++ {
		f.ShortCode = fmt.Sprint("#", i%1000)
		if _, ok := p.Phrase(context.Background(), f, fallbackText); !ok {
			b.Fatal("cache hit fell back")
		}
	}
}
