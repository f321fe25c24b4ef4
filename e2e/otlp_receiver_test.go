package e2e_test

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// span is one span as an OTLP receiver got it, ids in hex.
type span struct {
	Service, Name               string
	TraceID, SpanID, ParentID   string
	Attrs                       map[string]string
	LinkTraceIDs, LinkedSpanIDs []string
}

// otlpReceiver is an OTLP/HTTP traces endpoint (protobuf) that keeps every
// span it is sent.
type otlpReceiver struct {
	URL string

	mu    sync.Mutex
	spans []span
}

// newOTLPReceiver serves POST /v1/traces on a loopback port for the test's
// lifetime.
func newOTLPReceiver(t *testing.T) *otlpReceiver {
	t.Helper()
	r := &otlpReceiver{}
	srv := httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(srv.Close)
	r.URL = srv.URL + "/v1/traces"
	return r
}

func (r *otlpReceiver) serve(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil || req.URL.Path != "/v1/traces" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	var in coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &in); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var got []span
	for _, rs := range in.GetResourceSpans() {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.GetKey() == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				sp := span{Service: service, Name: s.GetName(), TraceID: hex.EncodeToString(s.GetTraceId()),
					SpanID: hex.EncodeToString(s.GetSpanId()), ParentID: hex.EncodeToString(s.GetParentSpanId()), Attrs: map[string]string{}}
				for _, a := range s.GetAttributes() {
					sp.Attrs[a.GetKey()] = a.GetValue().GetStringValue()
				}
				for _, l := range s.GetLinks() {
					sp.LinkTraceIDs = append(sp.LinkTraceIDs, hex.EncodeToString(l.GetTraceId()))
					sp.LinkedSpanIDs = append(sp.LinkedSpanIDs, hex.EncodeToString(l.GetSpanId()))
				}
				got = append(got, sp)
			}
		}
	}
	r.mu.Lock()
	r.spans = append(r.spans, got...)
	r.mu.Unlock()
	out, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// span returns the span with the given id, if received.
func (r *otlpReceiver) span(id string) (span, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range r.spans {
		if s.SpanID == id {
			return s, true
		}
	}
	return span{}, false
}
