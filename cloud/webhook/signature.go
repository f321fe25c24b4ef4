package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Standard Webhooks header names (https://www.standardwebhooks.com).
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts every Standard Webhooks secret; the rest is the
// base64-encoded HMAC key.
const SecretPrefix = "whsec_"

// DefaultTolerance is how far a webhook-timestamp may be from the
// receiver's clock before Verify refuses it (replay protection).
const DefaultTolerance = 5 * time.Minute

// ErrSignature is wrapped by every Verify failure.
var ErrSignature = errors.New("webhook signature")

// DecodeSecret returns the HMAC key of a "whsec_<base64>" secret.
func DecodeSecret(secret string) ([]byte, error) {
	s, ok := strings.CutPrefix(secret, SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("secret does not start with %q", SecretPrefix)
	}
	key, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("secret is not base64 after %q: %w", SecretPrefix, err)
	}
	if len(key) < 16 {
		return nil, fmt.Errorf("secret key is %d bytes, want at least 16", len(key))
	}
	return key, nil
}

// signature is "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>".
func signature(key []byte, id string, ts int64, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	m.Write([]byte("."))
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Sign sets the three Standard Webhooks headers on h for body sent now as
// message id.
func Sign(h http.Header, key []byte, id string, now time.Time, body []byte) {
	SignKeys(h, [][]byte{key}, id, now, body)
}

// SignKeys is Sign with one signature per key, space-separated in
// webhook-signature (the Standard Webhooks form for secret rotation); a
// receiver holding any one of the secrets accepts the message.
func SignKeys(h http.Header, keys [][]byte, id string, now time.Time, body []byte) {
	ts := now.Unix()
	sigs := make([]string, len(keys))
	for i, k := range keys {
		sigs[i] = signature(k, id, ts, body)
	}
	h.Set(HeaderID, id)
	h.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	h.Set(HeaderSignature, strings.Join(sigs, " "))
}

// Verify checks a received webhook as a receiver should: secret is the
// "whsec_" secret shared with the sender, h the request headers, body the
// raw request body, now the receiver's clock, tolerance the largest
// accepted clock difference (0 means DefaultTolerance). It accepts when any
// of the space-separated "v1,<sig>" signatures matches, compared in
// constant time. Every failure wraps ErrSignature; a nil error means the
// body came from the holder of the secret within tolerance of now.
func Verify(secret string, h http.Header, body []byte, now time.Time, tolerance time.Duration) error {
	key, err := DecodeSecret(secret)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrSignature, err)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	id, tsText, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || tsText == "" || sigs == "" {
		return fmt.Errorf("%w: missing %s, %s or %s header", ErrSignature, HeaderID, HeaderTimestamp, HeaderSignature)
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not a unix time", ErrSignature, HeaderTimestamp, tsText)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: timestamp is %v away from now, tolerance %v", ErrSignature, d.Round(time.Second), tolerance)
	}
	want := []byte(signature(key, id, ts, body))
	for _, sig := range strings.Fields(sigs) {
		if hmac.Equal([]byte(sig), want) {
			return nil
		}
	}
	return fmt.Errorf("%w: no matching v1 signature", ErrSignature)
}

// NewSecret returns a fresh random "whsec_" secret (32-byte key) to share
// with a receiver.
func NewSecret() (string, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("new webhook secret: %w", err)
	}
	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}
