package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/passline/passline/cloud/relaytest"
)

// TestNATSTrustAndRelayCreds: `nats init` writes the trust an embedded
// server runs on (and refuses to replace it), `nats relay` mints the
// credentials the admin commands need; against that server `client add`
// works with them and is refused without them.
func TestNATSTrustAndRelayCreds(t *testing.T) {
	dir := t.TempDir()
	trust, creds := filepath.Join(dir, "trust.json"), filepath.Join(dir, "admin.creds")
	out, err := cli(t, "nats", "init", "-trust", trust)
	if err != nil || !strings.Contains(out, "resolver_preload") {
		t.Fatalf("nats init: %v\n%s", err, out)
	}
	if fi, err := os.Stat(trust); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("trust file: %v %v; want mode 0600", err, fi)
	}
	if _, err := cli(t, "nats", "init", "-trust", trust); err == nil {
		t.Fatal("nats init replaced an existing trust")
	}
	if _, err := cli(t, "nats", "relay", "admin", "-trust", trust, "-out", creds); err != nil {
		t.Fatal(err)
	}
	cfg := relaytest.Config(dir)
	cfg.NATS.Embedded.Trust = trust
	m := relaytest.MustRun(t, cfg)
	if _, err := cli(t, "client", "add", "-nats", m.NATSURL(), "-scopes", "orders:read", "-id", "anon"); err == nil {
		t.Fatal("client add without credentials succeeded against the trusted embedded server")
	}
	if out, err := cli(t, "client", "add", "-nats", m.NATSURL(), "-creds", creds, "-scopes", "orders:read", "-id", "c1"); err != nil {
		t.Fatalf("client add with relay credentials: %v\n%s", err, out)
	}
}
