package tracing

import (
	"context"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// Header is the W3C Trace Context header, used as the NATS and HTTP header
// name and as the MQTT payload field's meaning.
const Header = "traceparent"

var tc = propagation.TraceContext{}

// Traceparent returns the W3C traceparent of ctx's span, "" when ctx holds
// no valid span context.
func Traceparent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	tc.Inject(ctx, c)
	return c[Header]
}

// FromTraceparent returns ctx carrying tp as its remote parent span
// context; a malformed or empty tp leaves ctx as it is (the next span
// starts a new trace).
func FromTraceparent(ctx context.Context, tp string) context.Context {
	if tp == "" {
		return ctx
	}
	return tc.Extract(ctx, propagation.MapCarrier{Header: tp})
}

// SpanContextOf parses tp; the result is invalid when tp is.
func SpanContextOf(tp string) trace.SpanContext {
	return trace.SpanContextFromContext(FromTraceparent(context.Background(), tp))
}

// TraceID returns the hex trace id of ctx's span, "" when there is none:
// the value of the trace_id log attribute.
func TraceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ""
	}
	return sc.TraceID().String()
}

// TraceIDOf returns the hex trace id in traceparent tp, "" when tp is
// malformed.
func TraceIDOf(tp string) string {
	sc := SpanContextOf(tp)
	if !sc.IsValid() {
		return ""
	}
	return sc.TraceID().String()
}
