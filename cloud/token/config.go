package token

import (
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// Config is the relay's "auth" config section. Give Key through $ENV
// (e.g. key: ${PASSLINE_JWT_KEY}); every replica needs the same one.
type Config struct {
	// Algorithm signs tokens: HS256 (default) or EdDSA.
	Algorithm string `yaml:"algorithm"`
	// Key is base64 (standard or URL alphabet, padded or not): the HS256
	// secret (at least 32 bytes) or the 32-byte Ed25519 seed.
	Key string `yaml:"key"`
	// BcryptCost hashes new client secrets; bcrypt.DefaultCost (10) when 0.
	BcryptCost int `yaml:"bcrypt_cost"`
}

// Validate checks the section; errors name the field (auth.key, ...).
func (c Config) Validate() error {
	_, err := c.Authority()
	return err
}

// Authority builds the token authority the config describes.
func (c Config) Authority() (*Authority, error) {
	if c.BcryptCost != 0 && (c.BcryptCost < bcrypt.MinCost || c.BcryptCost > bcrypt.MaxCost) {
		return nil, fmt.Errorf("auth.bcrypt_cost: %d is outside %d..%d", c.BcryptCost, bcrypt.MinCost, bcrypt.MaxCost)
	}
	if c.Key == "" {
		return nil, fmt.Errorf("auth.key: missing; set it to base64 of 32 random bytes (openssl rand -base64 32), through $ENV")
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
	return a, nil
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
