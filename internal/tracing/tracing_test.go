package tracing_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/passline/passline/internal/tracing"
)

const tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

// TestOffMintsIDsAndRecordsNothing: without an endpoint a span still gets
// ids in its parent's trace (so the traceparent travels and logs
// correlate), but is not recorded.
func TestOffMintsIDsAndRecordsNothing(t *testing.T) {
	p := tracing.Off()
	if p.Enabled() {
		t.Fatal("Off is enabled")
	}
	ctx, sp := p.Tracer("t").Start(tracing.FromTraceparent(context.Background(), tp), "x")
	defer sp.End()
	if sp.IsRecording() {
		t.Error("span recorded with tracing off")
	}
	if got := tracing.TraceID(ctx); got != "0af7651916cd43dd8448eb211c80319c" {
		t.Errorf("trace id %q, want the parent's", got)
	}
	out := tracing.Traceparent(ctx)
	if tracing.TraceIDOf(out) != "0af7651916cd43dd8448eb211c80319c" || out == tp {
		t.Errorf("child traceparent %q: want the parent's trace, a new span id", out)
	}
	if tracing.Traceparent(context.Background()) != "" || tracing.TraceIDOf("garbage") != "" {
		t.Error("no span, or a malformed traceparent, must give empty strings")
	}
}

// TestOnExportsByOTLP: with an endpoint, spans are recorded and posted to
// it (a URL without a path gets /v1/traces).
func TestOnExportsByOTLP(t *testing.T) {
	var posts atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltracepb.ExportTraceServiceRequest
		if err := proto.Unmarshal(body, &req); err != nil || len(req.ResourceSpans) != 1 {
			t.Errorf("body is not one resource's ExportTraceServiceRequest: %v", err)
			return
		}
		rs := req.ResourceSpans[0]
		var service string
		for _, kv := range rs.Resource.Attributes {
			if kv.Key == "service.name" {
				service = kv.Value.GetStringValue()
			}
		}
		if service != "test" || len(rs.ScopeSpans) != 1 || rs.ScopeSpans[0].Scope.Name != "t" || rs.ScopeSpans[0].Spans[0].Name != "x" {
			t.Errorf("export request %v: want service test, scope t, span x", &req)
		}
		if r.URL.Path == "/v1/traces" && r.Header.Get("Content-Type") == "application/x-protobuf" && r.Header.Get("X-Token") == "k" &&
			strings.HasPrefix(r.Header.Get("User-Agent"), "OTel OTLP Exporter Go/") {
			posts.Add(1)
		}
	}))
	defer srv.Close()
	p, err := tracing.New(tracing.Config{Endpoint: srv.URL, Headers: map[string]string{"X-Token": "k"}, BatchTimeout: 10 * time.Millisecond}, "test")
	if err != nil {
		t.Fatal(err)
	}
	_, sp := p.Tracer("t").Start(context.Background(), "x")
	if !p.Enabled() || !sp.IsRecording() {
		t.Fatal("tracing on but the span is not recorded")
	}
	sp.End()
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if posts.Load() == 0 {
		t.Fatal("nothing exported to the endpoint")
	}
}

func TestConfigValidate(t *testing.T) {
	for _, bad := range []tracing.Config{{Endpoint: "127.0.0.1:4318"}, {Endpoint: "ftp://x/v1/traces"}, {Endpoint: "http://x", BatchTimeout: -1}} {
		if bad.Validate() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if err := (tracing.Config{}).Validate(); err != nil {
		t.Errorf("empty config: %v", err)
	}
}
