package api_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/passline/passline/cloud/api"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/cloud/template"
	"github.com/passline/passline/wire"
)

type memTemplates map[string]string

func (m memTemplates) PutTemplate(_ context.Context, k template.Key, src string) (uint64, error) {
	if _, err := template.Compile(src, 0); err != nil {
		return 0, err
	}
	m[k.String()] = src
	return uint64(len(m)), nil
}

func (m memTemplates) GetTemplate(_ context.Context, k template.Key) (string, uint64, bool, error) {
	src, ok := m[k.String()]
	return src, 1, ok, nil
}

func server(assigned *[]wire.Assignment, healthy *error) http.Handler {
	s := &api.Server{
		Assign: func(_ context.Context, a wire.Assignment) error {
			if a.Rider == "down" {
				return errors.New("kv unavailable")
			}
			*assigned = append(*assigned, a)
			return nil
		},
		Order: func(_ context.Context, store, order string) (any, bool, error) {
			return map[string]string{"status": "ready"}, order == "o1", nil
		},
		Templates: memTemplates{}, Health: func() error { return *healthy },
		Gatherer: prometheus.NewRegistry(), Log: relaytest.Discard,
	}
	return s.Handler()
}

func TestRoutes(t *testing.T) {
	var assigned []wire.Assignment
	var healthy error
	h := server(&assigned, &healthy)
	good := `{"v":1,"store":"s1","order_id":"o1","rider":"r1","at":"2026-11-24T10:00:00Z"}`
	for _, tc := range []struct {
		method, path, body string
		code               int
		says               string
	}{
		{"POST", "/v1/assignments", good, 204, ""},
		{"POST", "/v1/assignments", `{"v":1,"store":"s1","order_id":"o1","rider":"down","at":"2026-11-24T10:00:00Z"}`, 503, "kv unavailable"},
		{"POST", "/v1/assignments", `{"v":1,"store":"s 1"}`, 400, "store"},
		{"POST", "/v1/assignments", `{"v":2}`, 400, "version"},
		{"POST", "/v1/assignments", strings.Repeat("x", wire.MaxPayload+10), 413, ""},
		{"GET", "/v1/stores/s1/orders/o1", "", 200, "ready"},
		{"GET", "/v1/stores/s1/orders/o2", "", 404, "no such order"},
		{"PUT", "/v1/merchants/m1/templates/ready/en", "Bag {{.ShortCode}}", 200, `"version":1`},
		{"PUT", "/v1/merchants/m1/templates/ready/en", "a\n{{.ShortCode", 400, `"line":2`},
		{"PUT", "/v1/merchants/m1/templates/nope/en", "x", 400, "kind"},
		{"GET", "/v1/merchants/m1/templates/ready/en", "", 200, "Bag"},
		{"GET", "/v1/merchants/m1/templates/eta/en", "", 404, "default"},
		{"GET", "/healthz", "", 200, "ok"},
		{"GET", "/metrics", "", 200, ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
		if rec.Code != tc.code || !strings.Contains(rec.Body.String(), tc.says) {
			t.Errorf("%s %s = %d %q, want %d containing %q", tc.method, tc.path, rec.Code, rec.Body.String(), tc.code, tc.says)
		}
	}
	if len(assigned) != 1 || assigned[0].Rider != "r1" {
		t.Fatalf("assigned %+v", assigned)
	}
	healthy = errors.New("nats not connected")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 503 {
		t.Fatalf("unhealthy /healthz = %d", rec.Code)
	}
}

// FuzzAssignmentBody: any body gets 204, 400 or 413, never a panic or 5xx.
func FuzzAssignmentBody(f *testing.F) {
	for _, s := range []string{`{"v":1,"store":"s1","order_id":"o1","rider":"r1","at":"2026-11-24T10:00:00Z"}`, `{`, `[]`, `{"v":1,"travel_s":-1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var assigned []wire.Assignment
		var healthy error
		rec := httptest.NewRecorder()
		server(&assigned, &healthy).ServeHTTP(rec, httptest.NewRequest("POST", "/v1/assignments", strings.NewReader(body)))
		switch rec.Code {
		case 204, 400, 413:
		case 503:
			if !strings.Contains(body, "down") {
				t.Fatalf("503 for %q", body)
			}
		default:
			t.Fatalf("status %d for %q", rec.Code, body)
		}
	})
}
