package app_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/cloud/sms"
	"github.com/passline/passline/cloud/webhook"
)

// TestPagesNeedTokensWhenAuthIsOn: with auth.key set, the rider page and
// its stream need rider:{id} for that rider, and the ops page, summary and
// stream need ops:read; the token comes as a bearer header or, for a
// browser, as ?access_token= on the page (which hands it to its
// EventSource).
func TestPagesNeedTokensWhenAuthIsOn(t *testing.T) {
	s := startSecured(t, relaytest.Config(t.TempDir()))
	rider1, rider2, ops := s.token("rider:rider-1"), s.token("rider:rider-2"), s.token("ops:read")
	for _, tc := range []struct {
		path, token string
		query       bool
		want        int
	}{
		{"/riders/rider-1/events", "", false, 401},
		{"/riders/rider-1/", "", false, 401},
		{"/ops/", "", false, 401},
		{"/ops/summary.json", "", false, 401},
		{"/ops/events", "", false, 401},
		{"/riders/rider-1/events", rider2, false, 403},
		{"/riders/rider-1/", rider2, true, 403},
		{"/riders/rider-1/events", ops, false, 403},
		{"/ops/summary.json", rider1, false, 403},
		{"/ops/events", rider1, true, 403},
		{"/riders/rider-1/events", "not-a-jwt", true, 401},
		{"/riders/rider-1/", rider1, true, 200},
		{"/riders/rider-1/events", rider1, true, 200},
		{"/riders/rider-1/events", rider1, false, 200},
		{"/ops/", ops, true, 200},
		{"/ops/summary.json", ops, false, 200},
		{"/ops/events", ops, true, 200},
	} {
		if got := status(t, s.base, tc.path, tc.token, tc.query); got != tc.want {
			t.Errorf("GET %s (token %.12q, in query %v) = %d, want %d", tc.path, tc.token, tc.query, got, tc.want)
		}
	}
}

// status GETs path with tok as bearer or ?access_token= and returns the
// status code without reading a stream's body.
func status(t *testing.T, base, path, tok string, query bool) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+path, nil)
	if tok != "" && query {
		req.URL.RawQuery = "access_token=" + tok
	} else if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestMetricsAndOpsCarryNoEndpointSecrets: webhook and SMS URLs (which may
// carry a token in their path or query) never appear in /metrics or the
// ops summary; breakers are labelled by endpoint name or host.
func TestMetricsAndOpsCarryNoEndpointSecrets(t *testing.T) {
	secret, _ := webhook.NewSecret()
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	cfg := relaytest.Config(t.TempDir())
	cfg.Webhook.Endpoints = []webhook.Endpoint{{Name: "merchant-1", URL: srv.URL + "/hooks/pathsecret123?sig=querysecret456", Secret: secret}}
	cfg.SMS = sms.DefaultConfig()
	cfg.SMS.URL, cfg.SMS.APIKey = srv.URL+"/send?api_key=smssecret789", "smskey000"
	cfg.Egress.Allow = []string{"127.0.0.1"} // the receivers are loopback test servers
	s := startSecured(t, cfg)
	for _, path := range []string{"/metrics", "/ops/summary.json"} {
		req, _ := http.NewRequest("GET", s.base+path, nil)
		req.Header.Set("Authorization", "Bearer "+s.token("ops:read"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "merchant-1") {
			t.Errorf("GET %s = %d, no breaker of merchant-1", path, resp.StatusCode)
		}
		for _, leak := range []string{"pathsecret123", "querysecret456", "smssecret789", "smskey000", secret, "/hooks/", "/send"} {
			if i := strings.Index(string(b), leak); i >= 0 {
				t.Errorf("GET %s carries %q: ...%s...", path, leak, b[max(0, i-120):min(len(b), i+40)])
			}
		}
	}
}

// TestBadPathParametersAre400: through the real relay and its KV buckets,
// ids that are not wire tokens are refused with 400 naming the parameter
// before they become a KV key or a subject (they were a 503 with "nats:
// invalid key"), on the API and on the pages alike.
func TestBadPathParametersAre400(t *testing.T) {
	s := startSecured(t, relaytest.Config(t.TempDir()))
	all := s.token("orders:read config:write")
	for _, tc := range []struct{ path, tok, field string }{
		{"/v1/stores/s1/orders/..%2F..%2Fs2", all, `"field":"order"`},
		{"/v1/stores/s1/orders/%3E", all, `"field":"order"`},
		{"/v1/stores/s1/orders/*", all, `"field":"order"`},
		{"/v1/stores/s1/orders/" + strings.Repeat("o", 65), all, `"field":"order"`},
		{"/v1/stores/%3E/config/status", all, `"field":"store"`},
		{"/v1/riders/%3E/events", s.token("rider:r1"), `"field":"rider"`},
		{"/riders/..%2Fr1/events", s.token("rider:r1"), "rider"},
		{"/riders/%2A/", s.token("rider:r1"), "rider"},
	} {
		req, _ := http.NewRequest("GET", s.base+tc.path, nil)
		req.Header.Set("Authorization", "Bearer "+tc.tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), tc.field) {
			t.Errorf("GET %s = %d %s, want 400 naming %s", tc.path, resp.StatusCode, b, tc.field)
		}
	}
}
