package ingest

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/internal/tracing"
	"github.com/passline/passline/wire"
)

// tracerName names the writer's tracer (the instrumenting package).
const tracerName = "github.com/passline/passline/agent/ingest"

// startIngest starts an agent.ingest span for each device event of a
// batch, the child of the bridge span its traceparent names, and moves the
// event onto that span: an order's trace then goes on from the agent's
// span, which the ticket leaves in Order.Traceparent. Status events are not
// traced.
func (w *Writer) startIngest(items []item) []trace.Span {
	spans := make([]trace.Span, 0, len(items))
	for i := range items {
		ev := items[i].ev
		if ev == nil || ev.Kind == wire.EventStatus {
			continue
		}
		ctx, sp := w.Tracer.Start(tracing.FromTraceparent(context.Background(), ev.Traceparent), "agent.ingest",
			trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attribute.String("passline.event_id", ev.ID),
				attribute.String("passline.event_kind", string(ev.Kind)), attribute.String("passline.order_id", ev.OrderID())))
		ev.Traceparent, ev.TraceID = tracing.Traceparent(ctx), tracing.TraceID(ctx)
		spans = append(spans, sp)
	}
	return spans
}

// endSpans ends spans, marking them failed when the batch was not
// committed.
func endSpans(spans []trace.Span, committed bool) {
	for _, sp := range spans {
		if !committed {
			sp.SetStatus(codes.Error, "batch not committed")
		}
		sp.End()
	}
}

// traceDecisions records an agent.decide span for decisions ds about o,
// begun at start, in the order's trace (the span that took in its ticket),
// linked to the triggering event's span when that is another trace (a
// bump starts its own), and stamps each decision with the span's
// traceparent and trace id.
func (w *Writer) traceDecisions(o *agent.Order, t agent.Trigger, ds []wire.Decision, start time.Time) {
	if len(ds) == 0 {
		return
	}
	parent := tracing.SpanContextOf(o.Traceparent)
	var cause trace.SpanContext
	if t.Event != nil {
		cause = tracing.SpanContextOf(t.Event.Traceparent)
	}
	if !parent.IsValid() {
		parent = cause
	}
	kinds := make([]string, len(ds))
	for i, d := range ds {
		kinds[i] = string(d.Kind)
	}
	opts := []trace.SpanStartOption{trace.WithTimestamp(start), trace.WithAttributes(
		attribute.String("passline.order_id", o.ID), attribute.StringSlice("passline.kinds", kinds))}
	if cause.IsValid() && cause.TraceID() != parent.TraceID() {
		opts = append(opts, trace.WithLinks(trace.Link{SpanContext: cause}))
	}
	ctx, sp := w.Tracer.Start(trace.ContextWithRemoteSpanContext(context.Background(), parent), "agent.decide", opts...)
	tp, id := tracing.Traceparent(ctx), tracing.TraceID(ctx)
	for i := range ds {
		ds[i].Traceparent, ds[i].TraceID = tp, id
	}
	sp.End()
}
