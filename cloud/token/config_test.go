package token_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/cloud/token"
)

func TestConfig(t *testing.T) {
	key32 := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" // base64 of 32 bytes
	tests := []struct {
		name string
		cfg  token.Config
		err  string
	}{
		{"hs256 default", token.Config{Key: key32}, ""},
		{"hs256 unpadded", token.Config{Key: strings.TrimRight(key32, "=")}, ""},
		{"eddsa", token.Config{Algorithm: "EdDSA", Key: key32}, ""},
		{"missing key", token.Config{}, "auth.key: missing"},
		{"not base64", token.Config{Key: "!!!"}, "auth.key: not base64"},
		{"short key", token.Config{Key: "c2hvcnQ="}, "auth.key: hs256 secret is 5 bytes"},
		{"bad algorithm", token.Config{Algorithm: "RS256", Key: key32}, "auth.algorithm"},
		{"bad cost", token.Config{Key: key32, BcryptCost: 99}, "auth.bcrypt_cost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				a, _ := tt.cfg.Authority()
				tok, _, _ := a.Issue(token.Client{ID: "c"}, []string{token.ScopeOrdersRead})
				if _, err := a.Verify(tok); err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
				t.Fatalf("err %v, want prefix %q", err, tt.err)
			}
		})
	}
}

func TestTokenEndpointThrottle(t *testing.T) {
	f := newTokenFixture(t)
	var keys []string
	f.h.Throttle = func(key string) (time.Duration, bool) {
		keys = append(keys, key)
		return 1500 * time.Millisecond, len(keys) <= 1
	}
	req := tokenReq{form: url.Values{"grant_type": {"client_credentials"}}, basic: [2]string{"platform", f.secret}}
	if rec := f.do(req); rec.Code != http.StatusOK {
		t.Fatalf("first: %d", rec.Code)
	}
	rec := f.do(req)
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "2" || !strings.Contains(rec.Body.String(), `"error":"rate_limited"`) {
		t.Fatalf("throttled: %d %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if keys[0] != "ip:192.0.2.1" {
		t.Fatalf("throttle key %q", keys[0])
	}
}
