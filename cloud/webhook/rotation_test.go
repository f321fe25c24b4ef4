package webhook_test

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/passline/passline/cloud/webhook"
)

var oldSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("the-old-secret-key-of-32-bytes!!"))

// capture keeps the headers and body of the last request it answered.
type capture struct {
	mu   sync.Mutex
	h    http.Header
	body []byte
}

func (c *capture) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	c.mu.Lock()
	c.h, c.body = r.Header.Clone(), b
	c.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (c *capture) last() (http.Header, []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.h, c.body
}

// TestSecretRotationOverlap: with secret rotated from oldSecret to secret
// until `until`, a delivery before then verifies with either secret and
// carries two signatures; from `until` on, only the new secret verifies.
func TestSecretRotationOverlap(t *testing.T) {
	start := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	until := start.Add(24 * time.Hour)
	clk := &clock{t: start}
	rcv := &capture{}
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	cfg := webhook.DefaultConfig()
	cfg.Endpoints = []webhook.Endpoint{{Name: "m", URL: srv.URL, Secret: secret, PreviousSecret: oldSecret, PreviousUntil: until}}
	if err := cfg.Validate("webhook"); err != nil {
		t.Fatal(err)
	}
	chans, err := webhook.NewAll(cfg, webhook.Options{Now: clk.Now, Guard: loopback(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at        time.Duration // after start
		sigs      int
		oldAccept bool
	}{
		{0, 2, true},
		{24*time.Hour - time.Second, 2, true},
		{24 * time.Hour, 1, false},
		{48 * time.Hour, 1, false},
	} {
		clk.Add(start.Add(tc.at).Sub(clk.Now()))
		if err := chans[0].Deliver(context.Background(), notification("n-"+tc.at.String())); err != nil {
			t.Fatal(err)
		}
		h, body := rcv.last()
		if n := len(strings.Fields(h.Get(webhook.HeaderSignature))); n != tc.sigs {
			t.Errorf("at +%v: %d signatures, want %d", tc.at, n, tc.sigs)
		}
		if err := webhook.Verify(secret, h, body, clk.Now(), 0); err != nil {
			t.Errorf("at +%v: new secret refused: %v", tc.at, err)
		}
		err := webhook.Verify(oldSecret, h, body, clk.Now(), 0)
		if tc.oldAccept && err != nil {
			t.Errorf("at +%v: old secret refused during the overlap: %v", tc.at, err)
		}
		if !tc.oldAccept && !errors.Is(err, webhook.ErrSignature) {
			t.Errorf("at +%v: old secret: %v, want ErrSignature after the overlap", tc.at, err)
		}
	}
}

func TestRotationConfig(t *testing.T) {
	until := time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		ep   webhook.Endpoint
		want string // "" means valid
	}{
		{"both", webhook.Endpoint{PreviousSecret: oldSecret, PreviousUntil: until}, ""},
		{"secret without until", webhook.Endpoint{PreviousSecret: oldSecret}, "webhook.endpoints[0].previous_until: required"},
		{"until without secret", webhook.Endpoint{PreviousUntil: until}, "webhook.endpoints[0].previous_secret: required"},
		{"same secret", webhook.Endpoint{PreviousSecret: secret, PreviousUntil: until}, "webhook.endpoints[0].previous_secret: the same"},
		{"bad secret", webhook.Endpoint{PreviousSecret: "whsec_!", PreviousUntil: until}, "webhook.endpoints[0].previous_secret: secret is not base64"},
	} {
		ep := tc.ep
		ep.Name, ep.URL, ep.Secret = "a", "http://127.0.0.1:1", secret
		cfg := webhook.DefaultConfig()
		cfg.Endpoints = []webhook.Endpoint{ep}
		err := cfg.Validate("webhook")
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)) {
			t.Errorf("%s: Validate = %v, want %q", tc.name, err, tc.want)
		}
	}
	var ep webhook.Endpoint
	if err := yaml.Unmarshal([]byte("previous_until: 2026-12-03T00:00:00Z\n"), &ep); err != nil || !ep.PreviousUntil.Equal(until) {
		t.Errorf("previous_until from YAML: %v, %v", ep.PreviousUntil, err)
	}
}
