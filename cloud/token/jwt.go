package token

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TTL is how long an access token is valid, and the longest lifetime
// (exp - iat) a token may claim unless the authority's MaxLifetime says
// otherwise.
const TTL = 2 * time.Hour

// Issuer is the iss claim of every Passline token.
const Issuer = "passline"

// DefaultAudience is the aud claim of the cloud's tokens unless
// auth.audience names another.
const DefaultAudience = "passline-cloud"

// Claims are what an access token says: who (sub = client id), what it may
// do (space-separated scope), its tier and the stores and merchants it may
// touch ("*" is all).
type Claims struct {
	Scope     string   `json:"scope"`
	Tier      Tier     `json:"tier"`
	Stores    []string `json:"stores,omitempty"`
	Merchants []string `json:"merchants,omitempty"`
	jwt.RegisteredClaims
}

// Scopes returns the token's scopes.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// HasScope reports whether the token carries scope s.
func (c *Claims) HasScope(s string) bool { return slices.Contains(c.Scopes(), s) }

// CanStore reports whether the token may touch store.
func (c *Claims) CanStore(store string) bool {
	return slices.Contains(c.Stores, "*") || slices.Contains(c.Stores, store)
}

// CanMerchant reports whether the token may touch merchant m.
func (c *Claims) CanMerchant(m string) bool {
	return slices.Contains(c.Merchants, "*") || slices.Contains(c.Merchants, m)
}

// Reason says why a token was refused. Stable strings, shown to clients.
type Reason string

// Reasons a token is refused.
const (
	ReasonMissing      Reason = "missing"       // no bearer token
	ReasonMalformed    Reason = "malformed"     // not a JWT
	ReasonBadSignature Reason = "bad_signature" // not signed by us, or with another algorithm
	ReasonExpired      Reason = "expired"       // past exp
	ReasonNotYetValid  Reason = "not_yet_valid" // before nbf or iat
	ReasonInvalid      Reason = "invalid"       // wrong issuer, missing claims
	ReasonRevoked      Reason = "revoked"       // its client was revoked
)

// VerifyError is a refused token.
type VerifyError struct {
	Reason Reason
	Err    error
}

// Error says the reason and the parser's error.
func (e *VerifyError) Error() string { return fmt.Sprintf("token %s: %v", e.Reason, e.Err) }

// Unwrap returns the parser's error.
func (e *VerifyError) Unwrap() error { return e.Err }

// Authority signs and verifies access tokens with one key: HS256 with a
// shared secret, or EdDSA with an Ed25519 key. Every relay replica must be
// given the same key.
type Authority struct {
	method jwt.SigningMethod
	sign   any
	verify any
	// Now is the clock for iat, exp and their checks; time.Now when nil.
	Now func() time.Time
	// Audience is the aud claim Issue writes and Verify requires; a token
	// for another service, signed with the same key, is refused.
	// DefaultAudience when empty.
	Audience string
	// MaxLifetime caps a token's exp - iat (and exp - now): a token that
	// claims to live longer is refused, however it was signed. Issued
	// tokens live min(TTL, MaxLifetime). TTL when 0.
	MaxLifetime time.Duration
}

// NewHS256 returns an authority signing with HMAC-SHA256 and secret, which
// must be at least 32 bytes.
func NewHS256(secret []byte) (*Authority, error) {
	if len(secret) < 32 {
		return nil, fmt.Errorf("hs256 secret is %d bytes, need at least 32", len(secret))
	}
	return &Authority{method: jwt.SigningMethodHS256, sign: secret, verify: secret}, nil
}

// NewEdDSA returns an authority signing with the Ed25519 key made from a
// 32-byte seed.
func NewEdDSA(seed []byte) (*Authority, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("ed25519 seed is %d bytes, need %d", len(seed), ed25519.SeedSize)
	}
	priv := ed25519.NewKeyFromSeed(seed)
	return &Authority{method: jwt.SigningMethodEdDSA, sign: priv, verify: priv.Public()}, nil
}

func (a *Authority) audience() string {
	if a.Audience == "" {
		return DefaultAudience
	}
	return a.Audience
}

// Lifetime is how long the tokens Issue signs are valid: TTL, or
// MaxLifetime when shorter.
func (a *Authority) Lifetime() time.Duration {
	if a.MaxLifetime > 0 && a.MaxLifetime < TTL {
		return a.MaxLifetime
	}
	return TTL
}

func (a *Authority) maxLifetime() time.Duration {
	if a.MaxLifetime > 0 {
		return a.MaxLifetime
	}
	return TTL
}

func (a *Authority) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Issue signs a token for c carrying scopes and the authority's audience,
// valid for Lifetime from now.
func (a *Authority) Issue(c Client, scopes []string) (string, time.Time, error) {
	now := a.now().Truncate(time.Second)
	exp := now.Add(a.Lifetime())
	jti := make([]byte, 12)
	_, _ = rand.Read(jti)
	claims := Claims{
		Scope: strings.Join(scopes, " "), Tier: c.Tier, Stores: c.Stores, Merchants: c.Merchants,
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: Issuer, Subject: c.ID, ID: hex.EncodeToString(jti), Audience: jwt.ClaimStrings{a.audience()},
			IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
		},
	}
	s, err := jwt.NewWithClaims(a.method, claims).SignedString(a.sign)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("sign token for %s: %w", c.ID, err)
	}
	return s, exp, nil
}

// Verify checks the signature (only this authority's algorithm), then
// issuer, audience, expiry, not-before and lifetime (iat required, exp - iat
// and exp - now at most MaxLifetime), and returns the claims. A refusal is
// a *VerifyError whose Reason says why.
func (a *Authority) Verify(token string) (*Claims, error) {
	if token == "" {
		return nil, &VerifyError{Reason: ReasonMissing, Err: errors.New("no token")}
	}
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return a.verify, nil },
		jwt.WithValidMethods([]string{a.method.Alg()}), jwt.WithTimeFunc(a.now),
		jwt.WithIssuer(Issuer), jwt.WithAudience(a.audience()), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
	if err != nil {
		return nil, &VerifyError{Reason: reasonOf(err), Err: err}
	}
	if c.Subject == "" {
		return nil, &VerifyError{Reason: ReasonInvalid, Err: errors.New("token has no subject")}
	}
	if err := a.checkLifetime(&c); err != nil {
		return nil, &VerifyError{Reason: ReasonInvalid, Err: err}
	}
	return &c, nil
}

// checkLifetime refuses a token without iat, or one that claims to live
// longer than the maximum from its iat or from now.
func (a *Authority) checkLifetime(c *Claims) error {
	if c.IssuedAt == nil {
		return errors.New("token has no iat")
	}
	longest := a.maxLifetime()
	if life := c.ExpiresAt.Sub(c.IssuedAt.Time); life > longest {
		return fmt.Errorf("token lives %v from iat to exp, longer than the allowed %v", life, longest)
	}
	if left := c.ExpiresAt.Sub(a.now()); left > longest {
		return fmt.Errorf("token expires in %v, later than the allowed %v", left.Round(time.Second), longest)
	}
	return nil
}

func reasonOf(err error) Reason {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return ReasonMalformed
	case errors.Is(err, jwt.ErrTokenSignatureInvalid), errors.Is(err, jwt.ErrTokenUnverifiable):
		return ReasonBadSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		return ReasonExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return ReasonNotYetValid
	}
	return ReasonInvalid
}
