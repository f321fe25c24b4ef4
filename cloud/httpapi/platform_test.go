package httpapi_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passline/passline/cloud/httpapi"
	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/cloud/token"
)

// memCreds is an in-memory PlatformCredentials.
type memCreds struct {
	mu sync.Mutex
	m  map[string]platform.Credentials
}

func (s *memCreds) Put(_ context.Context, store string, c platform.Credentials) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[store+"."+c.Platform] = c
	return nil
}

func (s *memCreds) Delete(_ context.Context, store, p string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, store+"."+p)
	return nil
}

func (s *memCreds) Connected(_ context.Context, store string) (map[string]time.Time, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]time.Time{}
	for k, c := range s.m {
		if strings.HasPrefix(k, store+".") {
			out[c.Platform] = c.UpdatedAt
		}
	}
	return out, nil
}

// TestPlatformCredentialsRoutes: platform:write on its own store sets and
// lists credentials; the list never shows a secret; another store, a
// missing scope, an unknown platform and a missing field are refused.
func TestPlatformCredentialsRoutes(t *testing.T) {
	a, _ := token.NewHS256([]byte("0123456789abcdef0123456789abcdef"))
	a.Now = func() time.Time { return t0 }
	store := &memCreds{m: map[string]platform.Credentials{}}
	pr := httpapi.PlatformRoutes{Store: store}
	h := (&httpapi.Routes{Auth: &httpapi.Auth{Verifier: a}, PlatformPut: pr.Put(), PlatformDelete: pr.Delete(), PlatformList: pr.List()}).Handler()
	issue := func(scopes ...string) string {
		tok, _, _ := a.Issue(token.Client{ID: "ops", Tier: token.TierEnterprise, Stores: []string{"s1"}}, scopes)
		return tok
	}
	writer, other := issue(token.ScopePlatformWrite), issue(token.ScopeConfigWrite)
	const secret = "very-secret-client-secret"
	good := `{"platform_store_id":"4163","client_id":"cid","client_secret":"` + secret + `","webhook_secret":"whs-secret-1"}`
	do := func(method, path, tok, body string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+tok)
		r.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	tests := []struct {
		name, method, path, tok, body string
		status                        int
		contains                      string
	}{
		{"own store", "PUT", "/v1/stores/s1/platforms/deliveroo", writer, good, 204, ""},
		{"other store", "PUT", "/v1/stores/s2/platforms/deliveroo", writer, good, 403, "forbidden"},
		{"without scope", "PUT", "/v1/stores/s1/platforms/deliveroo", other, good, 403, "forbidden"},
		{"unknown platform", "PUT", "/v1/stores/s1/platforms/grubhub", writer, good, 404, "unknown platform"},
		{"missing field", "PUT", "/v1/stores/s1/platforms/deliveroo", writer, `{"platform_store_id":"4163","client_id":"cid"}`, 400, "client_secret: required"},
		{"missing doordash key", "PUT", "/v1/stores/s1/platforms/doordash", writer, good, 400, "developer_id: required"},
		{"unknown field", "PUT", "/v1/stores/s1/platforms/deliveroo", writer, `{"password":"x"}`, 400, "unknown_field"},
		{"list", "GET", "/v1/stores/s1/platforms", writer, "", 200, `"platform":"deliveroo","connected":true`},
		{"list other store", "GET", "/v1/stores/s2/platforms", writer, "", 403, "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := do(tt.method, tt.path, tt.tok, tt.body)
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.contains) {
				t.Fatalf("got %d %s, want %d containing %q", rec.Code, rec.Body, tt.status, tt.contains)
			}
			if strings.Contains(rec.Body.String(), secret) || strings.Contains(rec.Body.String(), "whs-secret-1") {
				t.Fatalf("answer shows a secret: %s", rec.Body)
			}
		})
	}
	if c := store.m["s1.deliveroo"]; c.ClientSecret != secret || c.Platform != "deliveroo" || c.UpdatedAt.IsZero() {
		t.Fatalf("stored %v", c)
	}
	if rec := do("DELETE", "/v1/stores/s1/platforms/deliveroo", writer, ""); rec.Code != 204 || len(store.m) != 0 {
		t.Fatalf("delete: %d, left %d", rec.Code, len(store.m))
	}
}
