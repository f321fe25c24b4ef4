package token

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Config is the relay's "auth" config section. Give Key through the
// environment (key: ${PASSLINE_JWT_KEY}); every replica needs the same one.
type Config struct {
	// Algorithm signs tokens: HS256 (default) or EdDSA.
	Algorithm string `yaml:"algorithm"`
	// Key is base64 (standard or URL alphabet, padded or not): the HS256
	// secret (at least 32 bytes) or the 32-byte Ed25519 seed.
	Key string `yaml:"key"`
	// BcryptCost hashes new client secrets; bcrypt.DefaultCost (10) when 0.
	BcryptCost int `yaml:"bcrypt_cost"`
	// Audience is the aud claim of this cloud's tokens: tokens of another
	// service signed with the same key are refused. DefaultAudience
	// ("passline-cloud") when empty; every replica needs the same one.
	Audience string `yaml:"audience"`
	// MaxLifetime is the longest a token may live (exp - iat): longer
	// ones are refused, and issued ones live at most this. 2h (TTL) when
	// 0; at most 24h.
	MaxLifetime time.Duration `yaml:"max_lifetime"`
	// InsecureDev, with Key empty, serves the API's routes with
	// authentication off: anyone who reaches http.listen may read orders,
	// assign riders and change templates and store configs. For `make demo` and tests only; the relay
	// logs a warning at start. Without it an empty Key refuses to start.
	InsecureDev bool `yaml:"insecure_dev"`
}

// ErrNoKey is Validate's error for an empty key without InsecureDev.
var ErrNoKey = errors.New("auth.key: missing; it is required (base64 of 32 random bytes, e.g. openssl rand -base64 32, given through ${VAR}); " +
	"only for development, auth.insecure_dev: true serves the API without authentication")

// Validate checks the section; errors name the field (auth.key, ...). An
// empty key is ErrNoKey unless InsecureDev is set.
func (c Config) Validate() error {
	if c.Key == "" {
		if c.InsecureDev {
			return nil
		}
		return ErrNoKey
	}
	_, err := c.Authority()
	return err
}

// Authority builds the token authority the config describes.
func (c Config) Authority() (*Authority, error) {
	if c.BcryptCost != 0 && (c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost) {
		return nil, fmt.Errorf("auth.bcrypt_cost: %d is outside %d..%d", c.BcryptCost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	if c.MaxLifetime < 0 || c.MaxLifetime > 24*time.Hour {
		return nil, fmt.Errorf("auth.max_lifetime: %v is not in 0 (2h) to 24h", c.MaxLifetime)
	}
	if c.Audience != "" && !validAudience(c.Audience) {
		return nil, fmt.Errorf("auth.audience: %q is not 1-128 printable characters without spaces", c.Audience)
	}
	if c.Key == "" {
		return nil, fmt.Errorf("auth.key: missing; set it to base64 of 32 random bytes (openssl rand -base64 32), through ${VAR}")
	}
	key, err := decodeKey(c.Key)
	if err != nil {
		return nil, fmt.Errorf("auth.key: not base64: %w", err)
	}
	var a *Authority
	switch strings.ToUpper(c.Algorithm) {
	case "", "HS256":
		a, err = NewHS256(key)
	case "EDDSA":
		a, err = NewEdDSA(key)
	default:
		return nil, fmt.Errorf("auth.algorithm: %q is not HS256 or EdDSA", c.Algorithm)
	}
	if err != nil {
		return nil, fmt.Errorf("auth.key: %w", err)
	}
	a.Audience, a.MaxLifetime = c.Audience, c.MaxLifetime
	return a, nil
}

func validAudience(s string) bool {
	if len(s) > 128 {
		return false
	}
	for _, r := range s {
		if r <= ' ' || r > '~' {
			return false
		}
	}
	return true
}

func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	_, err := base64.StdEncoding.DecodeString(s)
	return nil, err
}
