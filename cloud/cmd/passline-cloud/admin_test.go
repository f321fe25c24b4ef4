package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/natsauth"
	"github.com/passline/passline/cloud/natsauth/natsauthtest"
	"github.com/passline/passline/cloud/natsd/natsdtest"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/token"
	"github.com/passline/passline/wire"
)

// cli runs the program with args and returns stdout and the error.
func cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	return stdout.String(), err
}

var secretLine = regexp.MustCompile(`(?m)^client_secret: (\S+)$`)

func mustSecret(t *testing.T, out string, err error) string {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	m := secretLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no client_secret in %q", out)
	}
	return m[1]
}

// tokenServer is POST /oauth/token over the server's PASSLINE_CLIENTS.
func tokenServer(t *testing.T, s *server.Server) *httptest.Server {
	t.Helper()
	_, js := natsdtest.Connect(t, s.ClientURL())
	store, err := natsjs.SetupClients(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := token.NewHS256(bytes.Repeat([]byte("k"), 32))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&token.Handler{Clients: &token.Clients{Store: store}, Authority: auth})
	t.Cleanup(srv.Close)
	return srv
}

func tokenStatus(t *testing.T, srv *httptest.Server, id, secret string) int {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}}
	resp, err := http.PostForm(srv.URL, form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestClientAddRotateRevoke runs the client subcommands against a real
// embedded NATS and then uses the secrets they printed at POST /oauth/token.
func TestClientAddRotateRevoke(t *testing.T) {
	s := natsdtest.Server(t, nil)
	srv := tokenServer(t, s)
	n := []string{"-nats", s.ClientURL()}

	out, err := cli(t, append([]string{"client", "add", "-id", "platform-1", "-tier", "enterprise", "-scopes", "orders:read,assignments:write", "-stores", "*"}, n...)...)
	first := mustSecret(t, out, err)
	if got := tokenStatus(t, srv, "platform-1", first); got != http.StatusOK {
		t.Fatalf("token with the added secret: %d, want 200", got)
	}
	if _, err := cli(t, append([]string{"client", "add", "-id", "platform-1", "-scopes", "orders:read"}, n...)...); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("adding platform-1 again: %v, want exists", err)
	}

	out, err = cli(t, append([]string{"client", "rotate", "platform-1"}, n...)...)
	second := mustSecret(t, out, err)
	if second == first {
		t.Fatal("rotate printed the old secret")
	}
	if got := tokenStatus(t, srv, "platform-1", first); got != http.StatusUnauthorized {
		t.Errorf("token with the rotated-out secret: %d, want 401", got)
	}
	if got := tokenStatus(t, srv, "platform-1", second); got != http.StatusOK {
		t.Errorf("token with the new secret: %d, want 200", got)
	}

	if _, err := cli(t, append([]string{"client", "revoke", "platform-1"}, n...)...); err != nil {
		t.Fatal(err)
	}
	if got := tokenStatus(t, srv, "platform-1", second); got != http.StatusUnauthorized {
		t.Errorf("token for a revoked client: %d, want 401", got)
	}
	if _, err := cli(t, append([]string{"client", "rotate", "platform-1"}, n...)...); err == nil || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("rotating a revoked client: %v, want revoked", err)
	}
}

// TestStoreAddCredsAreConfined mints store-a's creds with `store add` and
// connects with them to an operator-mode server: publishing a decision as
// store-a is stored, publishing as store-b is refused.
func TestStoreAddCredsAreConfined(t *testing.T) {
	dir := t.TempDir()
	trustPath, credsPath := filepath.Join(dir, "trust.json"), filepath.Join(dir, "a.creds")
	tr, err := natsauth.InitTrust(trustPath, "passline-test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli(t, "store", "add", "store-a", "-trust", trustPath, "-out", credsPath); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(credsPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("creds file: %v, mode %v; want 0600", err, fi)
	}
	if _, err := cli(t, "store", "add", "store-a", "-trust", trustPath, "-out", credsPath); err == nil {
		t.Error("store add overwrote an existing creds file")
	}
	s, relayPath := relayServer(t, tr, dir)
	admin, err := nats.Connect(s.ClientURL(), nats.UserCredentials(relayPath))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	ajs, _ := jetstream.New(admin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := ajs.CreateStream(ctx, jetstream.StreamConfig{Name: wire.StreamDecisions, Subjects: []string{wire.SubjectDecisions}}); err != nil {
		t.Fatal(err)
	}

	nc, err := nats.Connect(s.ClientURL(), nats.UserCredentials(credsPath), nats.CustomInboxPrefix(wire.StoreInboxPrefix("store-a")))
	if err != nil {
		t.Fatalf("connect with minted creds: %v", err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	if _, err := js.Publish(ctx, wire.DecisionSubject("store-a"), []byte("{}")); err != nil {
		t.Errorf("store-a publishing as itself: %v", err)
	}
	pctx, pcancel := context.WithTimeout(ctx, time.Second)
	defer pcancel()
	if _, err := js.Publish(pctx, wire.DecisionSubject("store-b"), []byte("{}")); err == nil {
		t.Error("store-a publishing as store-b was stored")
	}
	if err := nc.LastError(); err == nil || !strings.Contains(err.Error(), "Permissions Violation") {
		t.Errorf("last error %v, want a permissions violation", err)
	}
}

// TestAdminBadInput: every bad invocation is an error naming the problem.
func TestAdminBadInput(t *testing.T) {
	trust := filepath.Join(t.TempDir(), "none.json")
	for _, tc := range []struct {
		args []string
		err  string // "" means flag.ErrHelp
	}{
		{[]string{"client", "--help"}, ""},
		{[]string{"store", "--help"}, ""},
		{[]string{"client"}, "missing subcommand"},
		{[]string{"client", "list"}, "unknown subcommand"},
		{[]string{"client", "add"}, "scopes: a client needs at least one scope"},
		{[]string{"client", "add", "-scopes", "orders:write"}, `unknown scope "orders:write"`},
		{[]string{"client", "add", "-scopes", "orders:read", "-tier", "gold"}, `tier: "gold"`},
		{[]string{"client", "add", "-scopes", "orders:read", "-id", "bad id"}, `id: "bad id"`},
		{[]string{"client", "rotate"}, "exactly one CLIENT_ID"},
		{[]string{"client", "revoke", "a", "b"}, "exactly one CLIENT_ID"},
		{[]string{"client", "rotate", "x", "-nats", "nats://127.0.0.1:1"}, "connect nats"},
		{[]string{"store"}, "missing subcommand"},
		{[]string{"store", "remove", "x"}, "unknown subcommand"},
		{[]string{"store", "add"}, "exactly one STORE"},
		{[]string{"store", "add", "store-a", "-trust", trust}, "no such file"},
	} {
		_, err := cli(t, tc.args...)
		switch {
		case tc.err == "" && !errors.Is(err, flag.ErrHelp):
			t.Errorf("%v: err %v, want help", tc.args, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%v: err %v, want %q", tc.args, err, tc.err)
		}
	}
}

// relayServer starts a server trusting tr and writes relay credentials
// for it in dir.
func relayServer(t *testing.T, tr *natsauth.Trust, dir string) (*server.Server, string) {
	t.Helper()
	s := natsauthtest.Server(t, tr)
	relay, err := tr.Issuer()
	if err != nil {
		t.Fatal(err)
	}
	relayCreds, _ := relay.MintRelay("test")
	relayPath := filepath.Join(dir, "relay.creds")
	if err := os.WriteFile(relayPath, relayCreds, 0o600); err != nil {
		t.Fatal(err)
	}
	return s, relayPath
}
