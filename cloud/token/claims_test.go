package token_test

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/passline/passline/cloud/token"
)

// TestVerifyAudienceAndLifetime: a token signed with the right key is
// still refused when it is meant for another service (aud), names no
// audience, or lives longer than the authority's maximum, however it got
// there (exp a hundred years out, or iat backdated).
func TestVerifyAudienceAndLifetime(t *testing.T) {
	clk := newClock()
	a := mustHS256(t, clk)
	now := clk.Now()
	sign := func(claims jwt.MapClaims) string {
		base := jwt.MapClaims{"sub": "c1", "iss": token.Issuer, "aud": token.DefaultAudience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		for k, v := range claims {
			if v == nil {
				delete(base, k)
				continue
			}
			base[k] = v
		}
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, base).SignedString(testSecret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	for _, tc := range []struct {
		name   string
		claims jwt.MapClaims
		ok     bool
	}{
		{"own audience, one hour", nil, true},
		{"audience list with ours", jwt.MapClaims{"aud": []string{"other", token.DefaultAudience}}, true},
		{"exactly the maximum", jwt.MapClaims{"exp": now.Add(token.TTL).Unix()}, true},
		{"another service's audience", jwt.MapClaims{"aud": "billing-service"}, false},
		{"no audience", jwt.MapClaims{"aud": nil}, false},
		{"exp a hundred years out", jwt.MapClaims{"exp": now.AddDate(100, 0, 0).Unix()}, false},
		{"one second over the maximum", jwt.MapClaims{"exp": now.Add(token.TTL + time.Second).Unix()}, false},
		{"iat backdated past the maximum", jwt.MapClaims{"iat": now.Add(-3 * time.Hour).Unix()}, false},
		{"no iat", jwt.MapClaims{"iat": nil}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := a.Verify(sign(tc.claims))
			if tc.ok && err != nil {
				t.Fatalf("Verify: %v", err)
			}
			var ve *token.VerifyError
			if !tc.ok && (!errors.As(err, &ve) || ve.Reason != token.ReasonInvalid) {
				t.Fatalf("Verify = %v, want reason invalid", err)
			}
		})
	}
}

// TestConfiguredAudienceAndLifetime: auth.audience and auth.max_lifetime
// reach the authority; the tokens it issues carry that audience, live at
// most max_lifetime and pass its own check, and another audience's
// authority with the same key refuses them.
func TestConfiguredAudienceAndLifetime(t *testing.T) {
	key := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	a, err := token.Config{Key: key, Audience: "passline-eu", MaxLifetime: 30 * time.Minute}.Authority()
	if err != nil {
		t.Fatal(err)
	}
	clk := newClock()
	a.Now = clk.Now
	tok, exp, err := a.Issue(token.Client{ID: "c"}, []string{token.ScopeOrdersRead})
	if err != nil {
		t.Fatal(err)
	}
	if got := exp.Sub(clk.Now()); got != 30*time.Minute || a.Lifetime() != 30*time.Minute {
		t.Fatalf("token lives %v (Lifetime %v), want 30m", got, a.Lifetime())
	}
	c, err := a.Verify(tok)
	if err != nil || len(c.Audience) != 1 || c.Audience[0] != "passline-eu" {
		t.Fatalf("Verify = %+v, %v", c, err)
	}
	other, _ := token.Config{Key: key}.Authority()
	other.Now = clk.Now
	if _, err := other.Verify(tok); err == nil {
		t.Fatal("an authority of another audience accepted the token")
	}
	for _, bad := range []token.Config{{Key: key, MaxLifetime: -time.Second}, {Key: key, MaxLifetime: 48 * time.Hour}, {Key: key, Audience: "a b"}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", bad)
		}
	}
}
