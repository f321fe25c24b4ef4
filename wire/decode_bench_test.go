package wire_test

import (
	"testing"
	"time"

	"github.com/passline/passline/wire"
)

// BenchmarkDecodeDecision decodes a ready as an agent writes it (the
// relay's first step for every decision).
func BenchmarkDecodeDecision(b *testing.B) {
	now := time.Now()
	raw, err := wire.Decision{ID: "s1.o-1.ready.3", Store: "s1", OrderID: "o-1", ShortCode: "A12", Kind: wire.KindReady, Rule: "bump",
		EventID: "e-1", CreatedAt: now, ExpiresAt: now.Add(time.Hour), AcceptedAt: now.Add(-10 * time.Minute),
		TraceID: "0af7651916cd43dd8448eb211c80319c", Traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		Seq: 3, Order: &wire.OrderFacts{Items: 3, Distinct: 2, Subtotal: 23.5, Category: "burgers"}}.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := wire.DecodeDecision(raw); err != nil {
			b.Fatal(err)
		}
	}
}
