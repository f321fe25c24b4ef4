package webhook_test

import (
	"context"
	"errors"
	"net/url"
	"testing"

	"github.com/passline/passline/cloud/breaker"
	"github.com/passline/passline/cloud/egress"
	"github.com/passline/passline/cloud/webhook"
)

// TestDefaultChannelRefusesPrivateDestinations: a channel built without
// an allow-list never reaches a loopback receiver, named by address or by
// a name that resolves to it, nor the metadata address; nothing is sent
// and the error is permanent-looking ErrForbidden, not a delivery.
func TestDefaultChannelRefusesPrivateDestinations(t *testing.T) {
	rcv, srv := newReceiver(t, nil)
	for _, dest := range []string{srv.URL, "http://localhost:" + port(t, srv.URL) + "/", "http://169.254.169.254/latest/meta-data/"} {
		cfg := webhook.DefaultConfig()
		cfg.Retry = breaker.Retry{Attempts: 1}
		ch, err := webhook.New(cfg, webhook.Endpoint{Name: "m", URL: dest, Secret: secret}, webhook.Options{})
		if err != nil {
			t.Fatal(err)
		}
		err = ch.Deliver(context.Background(), notification("d-1"))
		if !errors.Is(err, egress.ErrForbidden) {
			t.Errorf("Deliver to %s = %v, want ErrForbidden", dest, err)
		}
	}
	if n := rcv.calls.Load(); n != 0 {
		t.Fatalf("the loopback receiver got %d requests, want 0", n)
	}
}

func port(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

// loopback allows the test receivers on 127.0.0.1, as an operator's
// egress.allow would.
func loopback(t *testing.T) *egress.Guard {
	t.Helper()
	g, err := egress.New(egress.Config{Allow: []string{"127.0.0.1", "::1"}})
	if err != nil {
		t.Fatal(err)
	}
	return g
}
