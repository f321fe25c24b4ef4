package token_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/passline/passline/cloud/token"
)

func TestVerifyReasons(t *testing.T) {
	clk := newClock()
	a := mustHS256(t, clk)
	client := token.Client{ID: "c1", Tier: token.TierFree, Stores: []string{"s1"}}
	good, exp, err := a.Issue(client, []string{token.ScopeOrdersRead, token.RiderScope("r1")})
	if err != nil {
		t.Fatal(err)
	}
	if exp.Sub(clk.Now()) != 2*time.Hour {
		t.Fatalf("expiry in %v, want 2h", exp.Sub(clk.Now()))
	}
	other, _ := token.NewHS256([]byte("another-secret-another-secret-xx"))
	other.Now = clk.Now
	foreign, _, _ := other.Issue(client, []string{token.ScopeOrdersRead})
	ed, _ := token.NewEdDSA(make([]byte, ed25519.SeedSize))
	ed.Now = clk.Now
	edTok, _, _ := ed.Issue(client, []string{token.ScopeOrdersRead})
	none, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "c1", "iss": "passline", "exp": clk.Now().Add(time.Hour).Unix()}).SignedString(jwt.UnsafeAllowNoneSignatureType)
	wrongIss, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "c1", "iss": "evil", "exp": clk.Now().Add(time.Hour).Unix()}).SignedString(testSecret)
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "c1", "iss": "passline"}).SignedString(testSecret)

	tests := []struct {
		name    string
		token   string
		advance time.Duration
		want    token.Reason
	}{
		{"valid", good, 0, ""},
		{"valid one second before expiry", good, 2*time.Hour - time.Second, ""},
		{"expired", good, 2*time.Hour + time.Second, token.ReasonExpired},
		{"missing", "", 0, token.ReasonMissing},
		{"malformed", "not.a.jwt", 0, token.ReasonMalformed},
		{"garbage", "abc", 0, token.ReasonMalformed},
		{"signed by another key", foreign, 0, token.ReasonBadSignature},
		{"tampered payload", tamper(good), 0, token.ReasonBadSignature},
		{"another algorithm", edTok, 0, token.ReasonBadSignature},
		{"alg none", none, 0, token.ReasonBadSignature},
		{"wrong issuer", wrongIss, 0, token.ReasonInvalid},
		{"no expiry", noExp, 0, token.ReasonInvalid},
		{"issued in the future", good, -time.Minute, token.ReasonNotYetValid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: newClock().Now().Add(tt.advance)}
			a.Now = c.Now
			claims, err := a.Verify(tt.token)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if claims.Subject != "c1" || !claims.HasScope("rider:r1") || claims.HasScope("rider:r2") || !claims.CanStore("s1") || claims.CanStore("s2") || claims.Tier != token.TierFree {
					t.Fatalf("claims %+v", claims)
				}
				return
			}
			var ve *token.VerifyError
			if !errors.As(err, &ve) || ve.Reason != tt.want {
				t.Fatalf("Verify error %v, want reason %s", err, tt.want)
			}
		})
	}
}

// tamper widens the scope in a JWT's payload without re-signing it.
func tamper(tok string) string {
	parts := strings.Split(tok, ".")
	p, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		panic(err)
	}
	p = []byte(strings.Replace(string(p), `"scope":"`, `"scope":"config:write `, 1))
	return parts[0] + "." + base64.RawURLEncoding.EncodeToString(p) + "." + parts[2]
}

func TestEdDSARoundTrip(t *testing.T) {
	ed, err := token.NewEdDSA([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := ed.Issue(token.Client{ID: "c", Tier: token.TierEnterprise}, []string{token.ScopeConfigWrite})
	if err != nil {
		t.Fatal(err)
	}
	c, err := ed.Verify(tok)
	if err != nil || !c.HasScope(token.ScopeConfigWrite) || c.Tier != token.TierEnterprise {
		t.Fatalf("verify: %+v %v", c, err)
	}
	if _, err := token.NewEdDSA([]byte("short")); err == nil {
		t.Fatal("short seed accepted")
	}
	if _, err := token.NewHS256([]byte("short")); err == nil {
		t.Fatal("short secret accepted")
	}
}
