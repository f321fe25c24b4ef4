package egress_test

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"

	"github.com/passline/passline/cloud/egress"
)

func mustGuard(t *testing.T, allow ...string) *egress.Guard {
	t.Helper()
	g, err := egress.New(egress.Config{Allow: allow})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestCheckAddr: special-purpose addresses are refused, public ones pass,
// and an allow-list entry lets exactly its range through.
func TestCheckAddr(t *testing.T) {
	strict := mustGuard(t)
	allowing := mustGuard(t, "10.20.0.0/16", "127.0.0.1", "fd00:ec2::254")
	for _, tc := range []struct {
		addr            string
		strict, allowed bool
	}{
		{"8.8.8.8", true, true},
		{"2606:4700:4700::1111", true, true},
		{"127.0.0.1", false, true},
		{"127.0.0.2", false, false},
		{"::1", false, false},
		{"::ffff:127.0.0.1", false, true}, // IPv4-mapped loopback
		{"169.254.169.254", false, false}, // cloud metadata
		{"fe80::1", false, false},
		{"fe80::1%eth0", false, false},
		{"10.0.0.1", false, false},
		{"10.20.3.4", false, true},
		{"172.16.0.1", false, false},
		{"192.168.1.1", false, false},
		{"fc00::1", false, false},
		{"fd00:ec2::254", false, true}, // AWS metadata over IPv6
		{"100.100.100.200", false, false},
		{"0.0.0.0", false, false},
		{"::", false, false},
		{"224.0.0.1", false, false},
		{"255.255.255.255", false, false},
		{"64:ff9b::a9fe:a9fe", false, false}, // NAT64 of 169.254.169.254
	} {
		a := netip.MustParseAddr(tc.addr)
		if got := strict.CheckAddr(a) == nil; got != tc.strict {
			t.Errorf("strict guard: %s allowed = %v, want %v", tc.addr, got, tc.strict)
		}
		err := allowing.CheckAddr(a)
		if got := err == nil; got != tc.allowed {
			t.Errorf("allowing guard: %s allowed = %v, want %v", tc.addr, got, tc.allowed)
		}
		if err != nil && !errors.Is(err, egress.ErrForbidden) {
			t.Errorf("%s: error %v does not wrap ErrForbidden", tc.addr, err)
		}
	}
}

// TestConfigValidate: bad entries are named by their index.
func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		allow []string
		ok    bool
	}{
		{[]string{"10.0.0.0/8", "::1", "hooks.internal", "127.0.0.1"}, true},
		{[]string{""}, false},
		{[]string{"10.0.0.0/33"}, false},
		{[]string{"http://hooks.internal"}, false},
		{[]string{"hooks internal"}, false},
	} {
		err := egress.Config{Allow: tc.allow}.Validate("egress")
		if (err == nil) != tc.ok {
			t.Errorf("Validate(%q) = %v, want ok %v", tc.allow, err, tc.ok)
		}
	}
}

// TestClientRefusesAtDialTime: a request to a loopback test server is
// refused before any byte is sent, whether the URL names the address or a
// name that resolves to it (the check runs on the resolved address, so
// DNS rebinding cannot pass); allowing the address or the name lets it
// through.
func TestClientRefusesAtDialTime(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits++ }))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	_, port, _ := net.SplitHostPort(u.Host)
	byName := "http://localhost:" + port + "/"
	for _, tc := range []struct {
		name  string
		allow []string
		url   string
		ok    bool
	}{
		{"loopback address", nil, srv.URL, false},
		{"name resolving to loopback", nil, byName, false},
		{"allowed address", []string{"127.0.0.1/32", "::1"}, srv.URL, true},
		{"allowed address by name", []string{"127.0.0.0/8", "::1"}, byName, true},
		{"allowed name", []string{"localhost"}, byName, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := hits
			resp, err := mustGuard(t, tc.allow...).Client().Get(tc.url)
			if err == nil {
				resp.Body.Close()
			}
			if tc.ok && err != nil {
				t.Fatalf("GET %s: %v", tc.url, err)
			}
			if !tc.ok && (err == nil || !errors.Is(err, egress.ErrForbidden) || hits != before) {
				t.Fatalf("GET %s = %v with %d requests served; want ErrForbidden and none", tc.url, err, hits-before)
			}
		})
	}
}

// TestCheckHost: config-time check of a URL's host.
func TestCheckHost(t *testing.T) {
	g := mustGuard(t)
	for host, ok := range map[string]bool{
		"hooks.example.com": true, "169.254.169.254": false, "[::1]": false, "localhost": false, "LOCALHOST.": false, "93.184.216.34": true,
	} {
		if got := g.CheckHost(host) == nil; got != ok {
			t.Errorf("CheckHost(%s) ok = %v, want %v", host, got, ok)
		}
	}
}
