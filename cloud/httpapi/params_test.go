package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/passline/passline/cloud/httpapi"
	"github.com/passline/passline/cloud/token"
)

// TestPathParametersValidated: every path parameter of the API is checked
// with wire's rules before any handler (or KV key) sees it, and a bad one
// is a 400 naming the parameter, for a token that may touch every store,
// merchant and rider it names.
func TestPathParametersValidated(t *testing.T) {
	a, _ := token.NewHS256([]byte("0123456789abcdef0123456789abcdef"))
	reached := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("%s %s reached its handler", r.Method, r.URL.Path)
		w.WriteHeader(599)
	})
	rt := &httpapi.Routes{
		Auth:  &httpapi.Auth{Verifier: a},
		Order: reached, Template: reached, Config: reached, ConfigStatus: reached, Events: reached, PlatformPut: reached,
	}
	h := rt.Handler()
	long := strings.Repeat("a", 65)
	tests := []struct{ method, path, field string }{
		{"GET", "/v1/stores/s1/orders/..%2F..%2Fs2", "order"},
		{"GET", "/v1/stores/s1/orders/%3E", "order"},
		{"GET", "/v1/stores/s1/orders/*", "order"},
		{"GET", "/v1/stores/s1/orders/a.b", "order"},
		{"GET", "/v1/stores/s1/orders/" + long, "order"},
		{"GET", "/v1/stores/..%2Fs2/orders/o1", "store"},
		{"GET", "/v1/stores/%3E/orders/o1", "store"},
		{"PUT", "/v1/stores/*/config", "store"},
		{"GET", "/v1/stores/" + long + "/config/status", "store"},
		{"PUT", "/v1/merchants/%3E/templates/ready/en", "merchant"},
		{"PUT", "/v1/merchants/m1/templates/..%2Fready/en", "kind"},
		{"PUT", "/v1/merchants/m1/templates/ready/*", "locale"},
		{"PUT", "/v1/stores/s1/platforms/..%2Fx", "platform"},
		{"GET", "/v1/riders/..%2F..%2Fr2/events", "rider"},
		{"GET", "/v1/riders/r.%3E/events", "rider"},
		{"GET", "/v1/riders/" + long + "/events", "rider"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rider := strings.TrimSuffix(strings.TrimPrefix(tt.path, "/v1/riders/"), "/events")
			tok, _, _ := a.Issue(token.Client{ID: "all", Tier: token.TierEnterprise, Stores: []string{"*"}, Merchants: []string{"*"}},
				[]string{token.ScopeOrdersRead, token.ScopeConfigWrite, token.ScopeTemplatesWrite, token.ScopePlatformWrite, token.RiderScope(rider)})
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(`{}`))
			r.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			var body struct {
				Error struct{ Code, Field string } `json:"error"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != http.StatusBadRequest || body.Error.Field != tt.field {
				t.Fatalf("got %d %s, want 400 naming %s", rec.Code, rec.Body.Bytes(), tt.field)
			}
		})
	}
	// An empty segment matches no route: 404, never a handler.
	for _, path := range []string{"/v1/stores/s1/orders/", "/v1/stores//orders/o1", "/v1/riders//events"} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != http.StatusNotFound && rec.Code/100 != 3 {
			t.Errorf("GET %s = %d %s, want 404 or a redirect to the clean path", path, rec.Code, rec.Body.Bytes())
		}
	}
}
