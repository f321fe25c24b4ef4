package relay

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/passline/passline/internal/tracing"
	"github.com/passline/passline/wire"
)

// startConsume starts the relay.consume span of decision d, a child of the
// span that published it, and moves d onto it; the span ends when the
// returned done runs. Only called with a Tracer set.
func (r *Relay) startConsume(ctx context.Context, d *wire.Decision, done func(Outcome)) (context.Context, func(Outcome)) {
	ctx, sp := r.Tracer.Start(tracing.FromTraceparent(ctx, d.Traceparent), "relay.consume",
		trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attribute.String("passline.decision_id", d.ID),
			attribute.String("passline.store", d.Store), attribute.String("passline.order_id", d.OrderID),
			attribute.String("passline.kind", string(d.Kind))))
	d.Traceparent = tracing.Traceparent(ctx)
	return ctx, func(o Outcome) {
		sp.SetAttributes(attribute.String("passline.result", o.Result))
		if o.Err != nil {
			sp.SetStatus(codes.Error, o.Err.Error())
		}
		sp.End()
		done(o)
	}
}

// startDeliver starts the relay.deliver span of n on channel name, a child
// of ctx's span, and returns n carrying its traceparent (the channel sends
// it on). With no Tracer it returns n as it is and a nil span.
func (f *Fanout) startDeliver(ctx context.Context, n wire.Notification, name string) (context.Context, wire.Notification, trace.Span) {
	if f.Tracer == nil {
		return ctx, n, nil
	}
	ctx, sp := f.Tracer.Start(ctx, "relay.deliver", trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attribute.String("passline.channel", name), attribute.String("passline.rider", n.Rider)))
	n.Traceparent = tracing.Traceparent(ctx)
	return ctx, n, sp
}

// endDeliver ends a span from startDeliver with the channel's result.
func endDeliver(sp trace.Span, err error) {
	if sp == nil {
		return
	}
	if err != nil {
		sp.SetStatus(codes.Error, err.Error())
	}
	sp.End()
}
