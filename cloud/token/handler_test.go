package token_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"

	"github.com/passline/passline/cloud/token"
)

type tokenFixture struct {
	h      *token.Handler
	auth   *token.Authority
	secret string
}

func newTokenFixture(t testing.TB) tokenFixture {
	t.Helper()
	clk := newClock()
	cs := &token.Clients{Store: token.NewMemStore(), Cost: bcrypt.MinCost, Now: clk.Now}
	_, secret, err := cs.Add(context.Background(), token.ClientSpec{
		ID: "platform", Tier: token.TierFree, Stores: []string{"*"},
		Scopes: []string{token.ScopeOrdersRead, token.ScopeAssignmentsWrite, token.ScopeAnyRider},
	})
	if err != nil {
		t.Fatal(err)
	}
	a := mustHS256(t, clk)
	return tokenFixture{h: &token.Handler{Clients: cs, Authority: a}, auth: a, secret: secret}
}

type tokenReq struct {
	method  string
	form    url.Values
	basic   [2]string
	ctype   string
	rawBody string
}

func (f tokenFixture) do(r tokenReq) *httptest.ResponseRecorder {
	body := r.rawBody
	if r.form != nil {
		body = r.form.Encode()
	}
	if r.method == "" {
		r.method = http.MethodPost
	}
	req := httptest.NewRequest(r.method, "/oauth/token", strings.NewReader(body))
	if r.ctype == "" {
		r.ctype = "application/x-www-form-urlencoded"
	}
	req.Header.Set("Content-Type", r.ctype)
	if r.basic[0] != "" {
		req.SetBasicAuth(url.QueryEscape(r.basic[0]), url.QueryEscape(r.basic[1]))
	}
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

func TestTokenEndpointIssues(t *testing.T) {
	f := newTokenFixture(t)
	tests := []struct {
		name  string
		req   tokenReq
		scope string
	}{
		{"basic", tokenReq{form: url.Values{"grant_type": {"client_credentials"}}, basic: [2]string{"platform", f.secret}}, "orders:read assignments:write"},
		{"form", tokenReq{form: url.Values{"grant_type": {"client_credentials"}, "client_id": {"platform"}, "client_secret": {f.secret}}}, "orders:read assignments:write"},
		{"rider scope", tokenReq{form: url.Values{"grant_type": {"client_credentials"}, "scope": {"rider:r7"}}, basic: [2]string{"platform", f.secret}}, "rider:r7"},
		{"charset param", tokenReq{form: url.Values{"grant_type": {"client_credentials"}}, basic: [2]string{"platform", f.secret}, ctype: "application/x-www-form-urlencoded; charset=utf-8"}, "orders:read assignments:write"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.do(tt.req)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if rec.Header().Get("Cache-Control") != "no-store" {
				t.Fatal("token response is cacheable")
			}
			var resp struct {
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
				ExpiresIn   int    `json:"expires_in"`
				Scope       string `json:"scope"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			if resp.TokenType != "Bearer" || resp.ExpiresIn != 7200 || resp.Scope != tt.scope {
				t.Fatalf("response %+v", resp)
			}
			c, err := f.auth.Verify(resp.AccessToken)
			if err != nil || c.Subject != "platform" || c.Scope != tt.scope {
				t.Fatalf("issued token: %+v %v", c, err)
			}
		})
	}
}

func TestTokenEndpointRefuses(t *testing.T) {
	f := newTokenFixture(t)
	cc := url.Values{"grant_type": {"client_credentials"}}
	tests := []struct {
		name   string
		req    tokenReq
		status int
		code   string
	}{
		{"wrong secret", tokenReq{form: cc, basic: [2]string{"platform", "nope"}}, 401, "invalid_client"},
		{"unknown client", tokenReq{form: cc, basic: [2]string{"ghost", f.secret}}, 401, "invalid_client"},
		{"no credentials", tokenReq{form: cc}, 400, "invalid_request"},
		{"both methods", tokenReq{form: url.Values{"grant_type": {"client_credentials"}, "client_id": {"platform"}}, basic: [2]string{"platform", f.secret}}, 400, "invalid_request"},
		{"missing grant", tokenReq{form: url.Values{}, basic: [2]string{"platform", f.secret}}, 400, "invalid_request"},
		{"password grant", tokenReq{form: url.Values{"grant_type": {"password"}}, basic: [2]string{"platform", f.secret}}, 400, "unsupported_grant_type"},
		{"scope not granted", tokenReq{form: url.Values{"grant_type": {"client_credentials"}, "scope": {"config:write"}}, basic: [2]string{"platform", f.secret}}, 400, "invalid_scope"},
		{"json body", tokenReq{rawBody: `{"grant_type":"client_credentials"}`, ctype: "application/json", basic: [2]string{"platform", f.secret}}, 400, "invalid_request"},
		{"oversize", tokenReq{rawBody: "grant_type=client_credentials&pad=" + strings.Repeat("x", 5000), basic: [2]string{"platform", f.secret}}, 400, "invalid_request"},
		{"GET", tokenReq{method: http.MethodGet}, 405, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := f.do(tt.req)
			var e struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if rec.Code != tt.status || e.Error != tt.code || e.Description == "" {
				t.Fatalf("got %d %+v, want %d %s", rec.Code, e, tt.status, tt.code)
			}
			if tt.status == 401 && rec.Header().Get("WWW-Authenticate") == "" {
				t.Fatal("401 without WWW-Authenticate")
			}
		})
	}
}

// FuzzTokenEndpoint feeds arbitrary form bodies and Basic credentials to
// POST /oauth/token: it must answer 200, 400 or 401 with JSON, never panic.
func FuzzTokenEndpoint(f *testing.F) {
	fx := newTokenFixture(f)
	f.Add("grant_type=client_credentials", "platform", fx.secret)
	f.Add("grant_type=client_credentials&scope=rider%3Ar1+orders%3Aread", "platform", fx.secret)
	f.Add("grant_type=client_credentials&client_id=platform&client_secret="+fx.secret, "", "")
	f.Add("%zz&&==;", "a%", "%")
	f.Add("grant_type=client_credentials&scope=rider%3A%2A", "platform", "x")
	f.Fuzz(func(t *testing.T, body, user, pass string) {
		req := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if user != "" || pass != "" {
			req.SetBasicAuth(user, pass)
		}
		rec := httptest.NewRecorder()
		fx.h.ServeHTTP(rec, req)
		switch rec.Code {
		case 200, 400, 401:
		default:
			t.Fatalf("status %d", rec.Code)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("body not JSON: %q", rec.Body)
		}
	})
}
