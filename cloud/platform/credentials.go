package platform

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"golang.org/x/crypto/nacl/secretbox"
)

// Credentials are one store's credentials on one platform. Which fields a
// platform needs is listed in Require; the secrets (ClientSecret,
// SigningSecret, WebhookSecret) never leave the cloud: they are sealed at
// rest, never logged (String hides them) and never returned by the API.
type Credentials struct {
	Platform string `json:"platform"`
	// PlatformStoreID is the store's id on the platform (Deliveroo
	// location_id, Uber Eats store_id, DoorDash merchant_supplied_id of
	// the store, Meituan app_poi_code, Open Delivery merchant id). A
	// webhook naming another one is refused.
	PlatformStoreID string `json:"platform_store_id"`
	// BaseURL overrides the adapter's API root (a sandbox, a test fake).
	BaseURL string `json:"base_url,omitempty"`
	// TokenURL overrides the adapter's OAuth 2 token endpoint.
	TokenURL string `json:"token_url,omitempty"`
	// ClientID and ClientSecret: OAuth 2 client credentials (Open
	// Delivery, Deliveroo, Uber Eats), or Meituan's app_id and secret.
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	// Scopes requested with the client credentials; empty takes the
	// adapter's documented ones.
	Scopes []string `json:"scopes,omitempty"`
	// DeveloperID, KeyID and SigningSecret are DoorDash's JWT credentials.
	DeveloperID   string `json:"developer_id,omitempty"`
	KeyID         string `json:"key_id,omitempty"`
	SigningSecret string `json:"signing_secret,omitempty"`
	// WebhookSecret verifies the platform's webhooks to this store.
	WebhookSecret string    `json:"webhook_secret,omitempty"`
	UpdatedAt     time.Time `json:"updated_at,omitzero"`
}

// String hides every secret, so a credential that reaches a log by
// accident shows none.
func (c Credentials) String() string {
	return fmt.Sprintf("platform credentials{%s store %s client %s}", c.Platform, c.PlatformStoreID, c.ClientID)
}

// LogValue hides the secrets from slog too.
func (c Credentials) LogValue() string { return c.String() }

// secrets are the values a platform's error body must never echo into a
// log.
func (c Credentials) secrets() []string {
	var out []string
	for _, s := range []string{c.ClientSecret, c.SigningSecret, c.WebhookSecret} {
		if len(s) >= 4 {
			out = append(out, s)
		}
	}
	return out
}

// Require lists, per platform, the fields a store must set.
var Require = map[string][]string{
	OpenDelivery: {"platform_store_id", "base_url", "client_id", "client_secret"},
	Deliveroo:    {"platform_store_id", "client_id", "client_secret", "webhook_secret"},
	UberEats:     {"platform_store_id", "client_id", "client_secret", "webhook_secret"},
	DoorDash:     {"platform_store_id", "developer_id", "key_id", "signing_secret", "webhook_secret"},
	Meituan:      {"platform_store_id", "client_id", "client_secret"},
}

// Validate checks that every field the platform needs is set and that the
// URLs are http(s).
func (c Credentials) Validate() error {
	need, ok := Require[c.Platform]
	if !ok {
		return fmt.Errorf("platform: %q: %w", c.Platform, ErrUnknownPlatform)
	}
	have := map[string]string{
		"platform_store_id": c.PlatformStoreID, "base_url": c.BaseURL, "client_id": c.ClientID, "client_secret": c.ClientSecret,
		"developer_id": c.DeveloperID, "key_id": c.KeyID, "signing_secret": c.SigningSecret, "webhook_secret": c.WebhookSecret,
	}
	for _, f := range need {
		if strings.TrimSpace(have[f]) == "" {
			return fmt.Errorf("%s: required for %s", f, c.Platform)
		}
	}
	for name, v := range map[string]string{"base_url": c.BaseURL, "token_url": c.TokenURL} {
		if v == "" {
			continue
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return fmt.Errorf("%s: %q is not an http(s) URL", name, v)
		}
	}
	return nil
}

// Sealer encrypts credentials at rest with NaCl secretbox
// (XSalsa20-Poly1305) under a 32-byte key from the config. A sealed value
// is a random 24-byte nonce followed by the box.
type Sealer struct{ key [32]byte }

// NewSealer takes the key as standard base64 of 32 bytes (head -c32
// /dev/urandom | base64).
func NewSealer(b64 string) (*Sealer, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
	if err != nil || len(k) != 32 {
		return nil, errors.New("seal key must be base64 of exactly 32 bytes")
	}
	s := &Sealer{}
	copy(s.key[:], k)
	return s, nil
}

// Seal encrypts c.
func (s *Sealer) Seal(c Credentials) ([]byte, error) {
	plain, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode credentials: %w", err)
	}
	var nonce [24]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return secretbox.Seal(nonce[:], plain, &nonce, &s.key), nil
}

// ErrUnseal means a sealed value was damaged or sealed under another key.
var ErrUnseal = errors.New("cannot unseal credentials: damaged or sealed with another key")

// Open decrypts what Seal produced.
func (s *Sealer) Open(sealed []byte) (Credentials, error) {
	var c Credentials
	if len(sealed) < 24+secretbox.Overhead {
		return c, ErrUnseal
	}
	var nonce [24]byte
	copy(nonce[:], sealed[:24])
	plain, ok := secretbox.Open(nil, sealed[24:], &nonce, &s.key)
	if !ok {
		return c, ErrUnseal
	}
	if err := json.Unmarshal(plain, &c); err != nil {
		return c, fmt.Errorf("decode credentials: %w", err)
	}
	return c, nil
}
