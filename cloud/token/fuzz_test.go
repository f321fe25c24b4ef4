package token_test

import (
	"errors"
	"testing"

	"github.com/passline/passline/cloud/token"
)

// FuzzVerify feeds arbitrary strings as bearer tokens: Verify never panics,
// refuses with a known reason, and accepts only tokens whose claims it can
// state (a subject and an expiry).
func FuzzVerify(f *testing.F) {
	clk := newClock()
	a := mustHS256(f, clk)
	good, _, _ := a.Issue(token.Client{ID: "c1", Tier: token.TierFree}, []string{token.ScopeOrdersRead})
	f.Add(good)
	f.Add(good[:len(good)-2])
	f.Add("")
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	f.Add("eyJhbGciOiJIUzI1NiJ9.e30.AAAA")
	known := map[token.Reason]bool{token.ReasonMissing: true, token.ReasonMalformed: true, token.ReasonBadSignature: true,
		token.ReasonExpired: true, token.ReasonNotYetValid: true, token.ReasonInvalid: true}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := a.Verify(s)
		if err != nil {
			var ve *token.VerifyError
			if !errors.As(err, &ve) || !known[ve.Reason] {
				t.Fatalf("error %v without a known reason", err)
			}
			return
		}
		if c.Subject == "" || c.ExpiresAt == nil {
			t.Fatalf("accepted %q with claims %+v", s, c)
		}
	})
}

func BenchmarkIssue(b *testing.B) {
	a := mustHS256(b, newClock())
	c := token.Client{ID: "c1", Tier: token.TierFree}
	for b.Loop() {
		if _, _, err := a.Issue(c, []string{token.ScopeOrdersRead}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	a := mustHS256(b, newClock())
	tok, _, _ := a.Issue(token.Client{ID: "c1", Tier: token.TierFree}, []string{token.ScopeOrdersRead})
	for b.Loop() {
		if _, err := a.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}
