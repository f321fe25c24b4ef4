package tlsconf_test

import (
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/passline/passline/wire/tlsconf"
	"github.com/passline/passline/wire/tlsconf/tlstest"
)

func TestValidateNamesField(t *testing.T) {
	f := tlstest.New(t, "v")
	garbage := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "none.pem")
	for _, tc := range []struct {
		name   string
		c      tlsconf.Config
		server bool
		want   string // "" means valid
	}{
		{"empty", tlsconf.Config{}, false, ""},
		{"ca only", tlsconf.Config{CA: f.CA}, false, ""},
		{"mutual", tlsconf.Config{CA: f.CA, Cert: f.Cert, Key: f.Key}, false, ""},
		{"server", tlsconf.Config{Cert: f.Cert, Key: f.Key}, true, ""},
		{"cert without key", tlsconf.Config{Cert: f.Cert}, false, "x.tls.key: required with x.tls.cert"},
		{"key without cert", tlsconf.Config{Key: f.Key}, false, "x.tls.cert: required with x.tls.key"},
		{"missing ca", tlsconf.Config{CA: missing}, false, "x.tls.ca: stat " + missing},
		{"missing key", tlsconf.Config{Cert: f.Cert, Key: missing}, false, "x.tls.key: stat"},
		{"ca not pem", tlsconf.Config{CA: garbage}, false, "x.tls.ca: " + garbage + " holds no PEM"},
		{"swapped pair", tlsconf.Config{Cert: f.Key, Key: f.Cert}, false, "x.tls.cert: load key pair"},
		{"server without cert", tlsconf.Config{CA: f.CA}, true, "x.tls.cert: required for a server"},
		{"server name on server", tlsconf.Config{Cert: f.Cert, Key: f.Key, ServerName: "a"}, true, "x.tls.server_name"},
	} {
		validate := tc.c.Validate
		if tc.server {
			validate = tc.c.ValidateServer
		}
		err := validate("x.tls")
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestHandshake: a client trusting the CA connects to a server with the
// CA's certificate; a client trusting another CA is refused.
func TestHandshake(t *testing.T) {
	f, other := tlstest.New(t, "srv"), tlstest.New(t, "other")
	sc, err := tlsconf.Config{Cert: f.Cert, Key: f.Key}.Server()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	for _, tc := range []struct {
		ca string
		ok bool
	}{{f.CA, true}, {other.CA, false}} {
		cc, err := tlsconf.Config{CA: tc.ca}.Client()
		if err != nil {
			t.Fatal(err)
		}
		conn, err := tls.DialWithDialer(&net.Dialer{}, "tcp", ln.Addr().String(), cc)
		if conn != nil {
			conn.Close()
		}
		if tc.ok != (err == nil) {
			t.Errorf("client trusting %s: err %v, want ok=%v", filepath.Base(filepath.Dir(tc.ca)), err, tc.ok)
		}
	}
}
