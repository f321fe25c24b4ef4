package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passline/passline/cloud/httpapi"
	"github.com/passline/passline/cloud/token"
)

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// api mounts the authorization chains the relay uses on stub handlers
// that answer 200 "ok", so the middleware alone decides.
func api(a *httpapi.Auth) http.Handler {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux := http.NewServeMux()
	mux.Handle("GET /v1/riders/{rider}/events", a.RequireStream(httpapi.RequireRider("rider", ok)))
	mux.Handle("GET /v1/stores/{store}/orders/{order}", a.Require(httpapi.RequireScope(token.ScopeOrdersRead, httpapi.RequireStore("store", ok))))
	mux.Handle("PUT /v1/merchants/{merchant}/templates/{kind}/{locale}", a.Require(httpapi.RequireScope(token.ScopeTemplatesWrite, httpapi.RequireMerchant("merchant", ok))))
	mux.Handle("POST /v1/assignments", a.Require(httpapi.RequireScope(token.ScopeAssignmentsWrite, ok)))
	mux.Handle("GET /unchained", httpapi.RequireScope(token.ScopeOrdersRead, ok))
	return mux
}

type authFixture struct {
	authority *token.Authority
	now       *time.Time
	h         http.Handler
	active    atomic.Bool
	calls     atomic.Int32
}

func newAuthFixture(t *testing.T) *authFixture {
	t.Helper()
	f := &authFixture{now: new(time.Time)}
	*f.now = t0
	a, err := token.NewHS256([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	a.Now = func() time.Time { return *f.now }
	f.authority = a
	f.active.Store(true)
	auth := &httpapi.Auth{Verifier: a, Now: a.Now, ActiveTTL: time.Minute,
		Active: func(_ context.Context, id string) (bool, error) {
			f.calls.Add(1)
			if id == "broken" {
				return false, errors.New("kv down")
			}
			return f.active.Load(), nil
		}}
	f.h = api(auth)
	return f
}

func (f *authFixture) token(t *testing.T, id string, scopes ...string) string {
	t.Helper()
	tok, _, err := f.authority.Issue(token.Client{ID: id, Tier: token.TierFree, Stores: []string{"s1"}, Merchants: []string{"m1"}}, scopes)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f *authFixture) do(method, target, tok string) (int, string, string) {
	r := httptest.NewRequest(method, target, nil)
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, r)
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return rec.Code, body.Error.Code, rec.Header().Get("WWW-Authenticate")
}

func TestAuthorization(t *testing.T) {
	f := newAuthFixture(t)
	riderX := f.token(t, "c1", token.RiderScope("X"))
	reader := f.token(t, "c1", token.ScopeOrdersRead)
	writer := f.token(t, "c1", token.ScopeTemplatesWrite, token.ScopeAssignmentsWrite)
	other, _ := token.NewHS256([]byte("another-key-another-key-another-k"))
	foreign, _, _ := other.Issue(token.Client{ID: "c1"}, []string{token.RiderScope("X")})

	tests := []struct {
		name   string
		method string
		target string
		tok    string
		status int
		code   string
	}{
		{"rider X opens own stream", "GET", "/v1/riders/X/events", riderX, 200, ""},
		{"rider X cannot open Y's stream", "GET", "/v1/riders/Y/events", riderX, 403, "forbidden"},
		{"rider X by query token", "GET", "/v1/riders/X/events?access_token=" + riderX, "", 200, ""},
		{"query token only on streams", "GET", "/v1/stores/s1/orders/o1?access_token=" + reader, "", 401, "token_missing"},
		{"no token", "GET", "/v1/riders/X/events", "", 401, "token_missing"},
		{"malformed token", "GET", "/v1/riders/X/events", "abc.def", 401, "token_malformed"},
		{"foreign signature", "GET", "/v1/riders/X/events", foreign, 401, "token_bad_signature"},
		{"reader reads own store", "GET", "/v1/stores/s1/orders/o1", reader, 200, ""},
		{"reader cannot read another store", "GET", "/v1/stores/s2/orders/o1", reader, 403, "forbidden"},
		{"rider token cannot read orders", "GET", "/v1/stores/s1/orders/o1", riderX, 403, "forbidden"},
		{"writer edits own merchant", "PUT", "/v1/merchants/m1/templates/ready/en", writer, 200, ""},
		{"writer cannot edit another merchant", "PUT", "/v1/merchants/m2/templates/ready/en", writer, 403, "forbidden"},
		{"reader cannot assign", "POST", "/v1/assignments", reader, 403, "forbidden"},
		{"writer assigns", "POST", "/v1/assignments", writer, 200, ""},
		{"scope check without Require refuses", "GET", "/unchained", reader, 401, "token_missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code, www := f.do(tt.method, tt.target, tt.tok)
			if status != tt.status || code != tt.code {
				t.Fatalf("got %d %q, want %d %q", status, code, tt.status, tt.code)
			}
			if status == 401 && !strings.Contains(www, `error="invalid_token"`) {
				t.Fatalf("WWW-Authenticate %q", www)
			}
		})
	}
}

func TestExpiredTokenRefused(t *testing.T) {
	f := newAuthFixture(t)
	tok := f.token(t, "c1", token.RiderScope("X"))
	*f.now = t0.Add(2*time.Hour - time.Second)
	if status, _, _ := f.do("GET", "/v1/riders/X/events", tok); status != 200 {
		t.Fatalf("token refused before expiry: %d", status)
	}
	*f.now = t0.Add(2*time.Hour + time.Second)
	status, code, www := f.do("GET", "/v1/riders/X/events", tok)
	if status != 401 || code != "token_expired" || !strings.Contains(www, `error_description="expired"`) {
		t.Fatalf("expired token: %d %q %q", status, code, www)
	}
}

func TestRevokedClientRefusedAfterCache(t *testing.T) {
	f := newAuthFixture(t)
	tok := f.token(t, "c1", token.RiderScope("X"))
	if status, _, _ := f.do("GET", "/v1/riders/X/events", tok); status != 200 {
		t.Fatal("active client refused")
	}
	f.active.Store(false)
	if status, _, _ := f.do("GET", "/v1/riders/X/events", tok); status != 200 {
		t.Fatal("cache not used within its TTL")
	}
	if f.calls.Load() != 1 {
		t.Fatalf("Active called %d times within TTL", f.calls.Load())
	}
	*f.now = t0.Add(time.Minute + time.Second)
	if status, code, _ := f.do("GET", "/v1/riders/X/events", tok); status != 401 || code != "token_revoked" {
		t.Fatalf("revoked client: %d %q", status, code)
	}
	broken := f.token(t, "broken", token.RiderScope("X"))
	if status, _, _ := f.do("GET", "/v1/riders/X/events", broken); status != 503 {
		t.Fatalf("client store down: %d, want 503", status)
	}
}

func TestRecoverAndLimitBody(t *testing.T) {
	h := httpapi.Recover(nil, http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"code":"internal"`) {
		t.Fatalf("panic: %d %s", rec.Code, rec.Body)
	}
	var got *httpapi.Error
	lim := httpapi.LimitBody(8, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var v map[string]any
		got = httpapi.Decode(w, r, &v, 1<<20)
	}))
	lim.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/", strings.NewReader(`{"a":"0123456789"}`)))
	if got == nil || got.Code != httpapi.CodeBodyTooLarge {
		t.Fatalf("LimitBody: %+v", got)
	}
}
