package tracing

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

func fastClient(url string) *otlpHTTP {
	c := newOTLPHTTP(url, map[string]string{"X-Token": "k"})
	c.first, c.most, c.total = time.Millisecond, 4*time.Millisecond, 2*time.Second
	return c
}

var oneSpan = []*tracepb.ResourceSpans{{ScopeSpans: []*tracepb.ScopeSpans{{Spans: []*tracepb.Span{{Name: "x"}}}}}}

// TestOTLPRetriesWhatTheSpecSaysIsRetryable: 503 and 429 are retried, the
// body each time is the collector's ExportTraceServiceRequest.
func TestOTLPRetriesWhatTheSpecSaysIsRetryable(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req coltracepb.ExportTraceServiceRequest
		b, _ := io.ReadAll(r.Body)
		if err := proto.Unmarshal(b, &req); err != nil || len(req.ResourceSpans) != 1 || req.ResourceSpans[0].ScopeSpans[0].Spans[0].Name != "x" {
			t.Errorf("body %x is not the export request: %v", b, err)
		}
		switch n.Add(1) {
		case 1:
			w.WriteHeader(http.StatusServiceUnavailable)
		case 2:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		}
	}))
	defer srv.Close()
	if err := fastClient(srv.URL).UploadTraces(context.Background(), oneSpan); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 3 {
		t.Errorf("%d posts, want 3", n.Load())
	}
}

// TestOTLPDoesNotRetryABadRequest: 400 is final and names the status.
func TestOTLPDoesNotRetryABadRequest(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, "bad spans", http.StatusBadRequest)
	}))
	defer srv.Close()
	err := fastClient(srv.URL).UploadTraces(context.Background(), oneSpan)
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "bad spans") || n.Load() != 1 {
		t.Fatalf("err %v after %d posts, want one post and a 400 error", err, n.Load())
	}
}

// TestOTLPGivesUp: a collector that stays unavailable ends the export
// after the retry window, with the last error.
func TestOTLPGivesUp(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadGateway)
	}))
	defer srv.Close()
	c := fastClient(srv.URL)
	c.total = 20 * time.Millisecond
	if err := c.UploadTraces(context.Background(), oneSpan); err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("err %v, want giving up with the 502", err)
	}
}

// TestOTLPPartialSuccess: rejected spans in a 200 response are an error.
func TestOTLPPartialSuccess(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{PartialSuccess: &coltracepb.ExportTracePartialSuccess{RejectedSpans: 2, ErrorMessage: "too old"}})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(b)
	}))
	defer srv.Close()
	err := fastClient(srv.URL).UploadTraces(context.Background(), oneSpan)
	if err == nil || !strings.Contains(err.Error(), "too old") || !strings.Contains(err.Error(), "2 spans") {
		t.Fatalf("err %v, want the partial success", err)
	}
}

// TestOTLPStopEndsARetry: Stop cancels an export waiting to retry.
func TestOTLPStopEndsARetry(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c := newOTLPHTTP(srv.URL, nil) // 5 s first backoff
	done := make(chan error, 1)
	go func() { done <- c.UploadTraces(context.Background(), oneSpan) }()
	time.Sleep(100 * time.Millisecond)
	_ = c.Stop(context.Background())
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("stopped export reported success")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Stop did not end the retry wait")
	}
}

// TestProgramsLinkNoGRPC: the three programs link the trace exporter
// without gRPC (otlptracehttp brought in grpc and grpc-gateway, 2.8 MB of
// text each program maps, traced or not).
func TestProgramsLinkNoGRPC(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool")
	}
	out, err := exec.Command(gobin, "list", "-deps", "github.com/passline/passline/agent/cmd/passline-agent",
		"github.com/passline/passline/cloud/cmd/passline-cloud", "github.com/passline/passline/firmware-bridge/cmd/passline-bridge").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, p := range strings.Fields(string(out)) {
		if strings.HasPrefix(p, "google.golang.org/grpc") || strings.HasPrefix(p, "github.com/grpc-ecosystem/") {
			t.Errorf("a program links %s", p)
		}
	}
}
