package relay_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/passline/passline/cloud/relay"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/internal/tracing"
	"github.com/passline/passline/wire"
)

const upstream = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

// TestRelaySpans: with a Tracer, a decision gets a relay.consume span, the
// child of the traceparent it came with, and one relay.deliver span per
// channel, whose traceparent the channel is handed; without one, the
// channel is handed the incoming traceparent as it is.
func TestRelaySpans(t *testing.T) {
	for _, on := range []bool{false, true} {
		rider := &fakeChannel{name: "rider"}
		h := newHarness(t, time.Now(), rider)
		rec := tracetest.NewSpanRecorder()
		if on {
			tr := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)).Tracer("test")
			h.relay.Tracer, h.relay.Fanout.Tracer = tr, tr
		}
		d := relaytest.Decision("d1", "s1", "o1", wire.KindReady)
		h.assign.m["s1.o1"] = wire.Assignment{Store: "s1", OrderID: "o1", Rider: "r1"}
		if o := h.relay.HandleDelivery(context.Background(), relay.Delivery{Raw: raw(t, d), Traceparent: upstream}); o.Result != "delivered" {
			t.Fatalf("on=%v: outcome %+v", on, o)
		}
		got := rider.delivered()[0].Traceparent
		if !on {
			if got != upstream || len(rec.Ended()) != 0 {
				t.Fatalf("off: channel got traceparent %q and %d spans ended; want %q and none", got, len(rec.Ended()), upstream)
			}
			continue
		}
		spans := map[string]sdktrace.ReadOnlySpan{}
		for _, s := range rec.Ended() {
			spans[s.Name()] = s
		}
		consume, deliver := spans["relay.consume"], spans["relay.deliver"]
		if consume == nil || deliver == nil {
			t.Fatalf("spans ended: %v", spans)
		}
		if consume.Parent().SpanID().String() != "b7ad6b7169203331" || consume.SpanContext().TraceID().String() != "0af7651916cd43dd8448eb211c80319c" {
			t.Errorf("consume span's parent %v, want the incoming traceparent's span", consume.Parent())
		}
		if deliver.Parent().SpanID() != consume.SpanContext().SpanID() {
			t.Errorf("deliver span's parent %v, want the consume span %v", deliver.Parent().SpanID(), consume.SpanContext().SpanID())
		}
		if want := tracing.TraceIDOf(got); want != "0af7651916cd43dd8448eb211c80319c" || tracing.SpanContextOf(got).SpanID() != deliver.SpanContext().SpanID() {
			t.Errorf("channel got traceparent %q, want the deliver span's", got)
		}
	}
}

// BenchmarkHandleTracing is the relay's handling of one decision through
// one channel with tracing off (no Tracer: what the relay runs without an
// OTLP endpoint) and on (spans recorded and batched to an exporter that
// drops them), so the cost of spans shows as a ratio.
func BenchmarkHandleTracing(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := map[bool]string{false: "off", true: "on"}[on]
		b.Run(name, func(b *testing.B) {
			h := newHarness(b, time.Now(), &fakeChannel{name: "rider"})
			if on {
				tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
				b.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
				h.relay.Tracer, h.relay.Fanout.Tracer = tp.Tracer("bench"), tp.Tracer("bench")
			}
			h.assign.m["s1.o1"] = wire.Assignment{Store: "s1", OrderID: "o1", Rider: "r1"}
			ds := make([]wire.Decision, b.N) // one id each: a repeated id is a duplicate, not a delivery
			for i := range ds {
				ds[i] = relaytest.Decision("d"+strconv.Itoa(i), "s1", "o1", wire.KindReady)
			}
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if o := h.relay.HandleDelivery(ctx, relay.Delivery{Decision: &ds[i], Traceparent: upstream}); o.Result != "delivered" {
					b.Fatal(o)
				}
			}
		})
	}
}
