package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/passline/passline/cloud/httpapi"
	"github.com/passline/passline/cloud/ratelimit"
	"github.com/passline/passline/cloud/token"
)

func TestRoutesGuards(t *testing.T) {
	a, _ := token.NewHS256([]byte("0123456789abcdef0123456789abcdef"))
	now := t0
	a.Now = func() time.Time { return now }
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteJSON(w, 200, map[string]string{"ok": "yes"})
	})
	rt := &httpapi.Routes{
		Auth:  &httpapi.Auth{Verifier: a},
		Limit: ratelimit.New(nil, a.Now, nil).Middleware,
		Order: ok, Assign: ok, Template: ok, Config: ok, ConfigStatus: ok, Events: ok,
		Health: http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }),
	}
	h := rt.Handler()
	issue := func(id string, scopes ...string) string {
		tok, _, _ := a.Issue(token.Client{ID: id, Tier: token.TierFree, Stores: []string{"s1"}, Merchants: []string{"m1"}}, scopes)
		return tok
	}
	editor := issue("editor", token.ScopeConfigWrite, token.ScopeTemplatesWrite)
	tests := []struct {
		name, method, path, tok string
		status                  int
		code                    string
	}{
		{"config own store", "PUT", "/v1/stores/s1/config", editor, 200, ""},
		{"config other store", "PUT", "/v1/stores/s2/config", editor, 403, "forbidden"},
		{"config status own store", "GET", "/v1/stores/s1/config/status", editor, 200, ""},
		{"config status other store", "GET", "/v1/stores/s2/config/status", editor, 403, "forbidden"},
		{"config status without scope", "GET", "/v1/stores/s1/config/status", issue("r", token.ScopeOrdersRead), 403, "forbidden"},
		{"template own merchant", "PUT", "/v1/merchants/m1/templates/ready/en", editor, 200, ""},
		{"template other merchant", "PUT", "/v1/merchants/m2/templates/ready/en", editor, 403, "forbidden"},
		{"orders without scope", "GET", "/v1/stores/s1/orders/o1", editor, 403, "forbidden"},
		{"assign without token", "POST", "/v1/assignments", "", 401, "token_missing"},
		{"rider stream other rider", "GET", "/v1/riders/Y/events", issue("gw", token.RiderScope("X")), 403, "forbidden"},
		{"token route not mounted", "POST", "/oauth/token", "", 404, "no_route"},
		{"unknown path", "GET", "/v2/anything", "", 404, "no_route"},
		{"wrong method", "DELETE", "/v1/stores/s1/config", editor, 404, "no_route"},
		{"panic becomes 500", "GET", "/healthz", "", 500, "internal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, strings.NewReader(`{}`))
			if tt.tok != "" {
				r.Header.Set("Authorization", "Bearer "+tt.tok)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			var body struct {
				Error struct{ Code string } `json:"error"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != tt.status || body.Error.Code != tt.code {
				t.Fatalf("got %d %q, want %d %q", rec.Code, body.Error.Code, tt.status, tt.code)
			}
		})
	}

	// Free tier through the mounted chain: the 11th request in a second is 429.
	reader := issue("reader", token.ScopeOrdersRead)
	for i := 1; i <= 11; i++ {
		r := httptest.NewRequest("GET", "/v1/stores/s1/orders/o1", nil)
		r.Header.Set("Authorization", "Bearer "+reader)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		want := 200
		if i == 11 {
			want = 429
		}
		if rec.Code != want {
			t.Fatalf("request %d: %d, want %d", i, rec.Code, want)
		}
		if i == 11 && rec.Header().Get("Retry-After") != "1" {
			t.Fatalf("Retry-After %q", rec.Header().Get("Retry-After"))
		}
	}
}

func TestRoutesMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := httpapi.NewMetrics(reg)
	a, _ := token.NewHS256([]byte("0123456789abcdef0123456789abcdef"))
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := (&httpapi.Routes{Auth: &httpapi.Auth{Verifier: a, Metrics: m}, APIMetrics: m, Assign: ok}).Handler()
	tok, _, _ := a.Issue(token.Client{ID: "c"}, []string{token.ScopeAssignmentsWrite})
	for _, bearer := range []string{tok, "", "junk"} {
		r := httptest.NewRequest("POST", "/v1/assignments", nil)
		if bearer != "" {
			r.Header.Set("Authorization", "Bearer "+bearer)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	got := map[string]float64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, mt := range f.GetMetric() {
			key := f.GetName()
			for _, l := range mt.GetLabel() {
				key += " " + l.GetName() + "=" + l.GetValue()
			}
			if c := mt.GetCounter(); c != nil {
				got[key] = c.GetValue()
			}
		}
	}
	want := map[string]float64{
		"passline_api_requests_total code=204 route=POST /v1/assignments": 1,
		"passline_api_requests_total code=401 route=POST /v1/assignments": 2,
		"passline_api_token_refused_total reason=missing":                 1,
		"passline_api_token_refused_total reason=malformed":               1,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (all: %v)", k, got[k], v, got)
		}
	}
}

type closer struct {
	http.Handler
	closed int
}

func (c *closer) Close() { c.closed++ }

func TestRoutesHandlerClosesStreams(t *testing.T) {
	ev := &closer{Handler: http.NotFoundHandler()}
	h := (&httpapi.Routes{Auth: &httpapi.Auth{}, Events: ev}).Handler()
	c, ok := h.(interface{ Close() })
	if !ok {
		t.Fatal("Routes handler has no Close")
	}
	c.Close()
	if ev.closed != 1 {
		t.Fatalf("events closed %d times", ev.closed)
	}
	(&httpapi.Routes{}).Handler().(interface{ Close() }).Close() // no streams: no-op
}
