package wire_test

import (
	"testing"

	"github.com/passline/passline/wire"
)

// TestTraceContextInPayloads: an event or decision from before the W3C
// traceparent field (a free-form trace_id only) still decodes, and one
// with a traceparent keeps it through a round trip.
func TestTraceContextInPayloads(t *testing.T) {
	old := `{"v":1,"id":"e1","kind":"ticket","store":"s1","device_id":"printer-1","at":"2026-12-04T08:00:00Z",` +
		`"trace_id":"e1","ticket":{"order_id":"o1","items":[{"sku":"a","qty":1}]}}`
	e, err := wire.DecodeEvent([]byte(old))
	if err != nil || e.TraceID != "e1" || e.Traceparent != "" {
		t.Fatalf("old event: %+v, %v", e, err)
	}
	const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	e.Traceparent = tp
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if e, err = wire.DecodeEvent(b); err != nil || e.Traceparent != tp {
		t.Fatalf("event round trip: %+v, %v", e, err)
	}
	oldDecision := `{"v":1,"id":"s1.o1.ready.1","store":"s1","order_id":"o1","kind":"ready","event_id":"e2",` +
		`"created_at":"2026-12-04T08:00:00Z","expires_at":"2026-12-04T10:00:00Z","trace_id":"e1"}`
	d, err := wire.DecodeDecision([]byte(oldDecision))
	if err != nil || d.TraceID != "e1" || d.Traceparent != "" {
		t.Fatalf("old decision: %+v, %v", d, err)
	}
	d.Traceparent = tp
	if b, err = d.Marshal(); err != nil {
		t.Fatal(err)
	}
	if d, err = wire.DecodeDecision(b); err != nil || d.Traceparent != tp {
		t.Fatalf("decision round trip: %+v, %v", d, err)
	}
}
