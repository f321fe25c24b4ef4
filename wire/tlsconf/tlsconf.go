// Package tlsconf is the TLS section every Passline program uses for its
// MQTT and NATS connections, and for the brokers it embeds: PEM file
// paths, validation whose errors name the field, and the *tls.Config they
// describe. It lives under wire because all three programs speak TLS to
// the same brokers; one copy instead of three.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// Config is a "tls" section. Paths may be given through ${VAR}. Private keys
// stay in files (mode 0600); the config holds only their paths.
type Config struct {
	// CA is a PEM bundle. For a client: the CAs that may sign the server's
	// certificate (empty: the system roots). For an embedded server: the
	// CAs whose client certificates are required (empty: none asked for).
	CA string `yaml:"ca"`
	// Cert and Key are a PEM certificate chain and its key, both or
	// neither. For a client: its certificate for mutual TLS. For an
	// embedded server: required.
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
	// ServerName overrides the name a client checks the server's
	// certificate against (default: the host of the URL).
	ServerName string `yaml:"server_name"`
}

// Enabled reports whether the section sets anything.
func (c Config) Enabled() bool { return c != Config{} }

// PlainMQTT reports whether an MQTT broker URL scheme, as paho names them,
// carries no TLS (tcp, mqtt, ws): with a tls section set, such a URL is a
// mistake the configs refuse.
func PlainMQTT(scheme string) bool {
	switch scheme {
	case "tcp", "mqtt", "ws":
		return true
	}
	return false
}

// Validate checks the section named field (e.g. "mqtt.tls"): every file
// exists and is readable, cert and key come together and make a pair, and
// the CA file holds at least one certificate. An empty section is valid.
func (c Config) Validate(field string) error {
	if !c.Enabled() {
		return nil
	}
	if (c.Cert == "") != (c.Key == "") {
		if c.Cert == "" {
			return fmt.Errorf("%s.cert: required with %s.key", field, field)
		}
		return fmt.Errorf("%s.key: required with %s.cert", field, field)
	}
	for _, f := range []struct{ name, path string }{{"ca", c.CA}, {"cert", c.Cert}, {"key", c.Key}} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return fmt.Errorf("%s.%s: %w", field, f.name, err)
		}
	}
	if _, err := c.pool(); err != nil {
		return fmt.Errorf("%s.ca: %w", field, err)
	}
	if _, err := c.pair(); err != nil {
		return fmt.Errorf("%s.cert: %w", field, err)
	}
	return nil
}

// ValidateServer is Validate for an embedded server's section, which
// needs cert and key.
func (c Config) ValidateServer(field string) error {
	if c.Enabled() && c.Cert == "" && c.Key == "" {
		return fmt.Errorf("%s.cert: required for a server (with %s.key)", field, field)
	}
	if c.ServerName != "" {
		return fmt.Errorf("%s.server_name: only for a client", field)
	}
	return c.Validate(field)
}

func (c Config) pool() (*x509.CertPool, error) {
	if c.CA == "" {
		return nil, nil
	}
	b, err := os.ReadFile(c.CA)
	if err != nil {
		return nil, err
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s holds no PEM certificate", c.CA)
	}
	return p, nil
}

func (c Config) pair() ([]tls.Certificate, error) {
	if c.Cert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
	if err != nil {
		return nil, fmt.Errorf("load key pair %s, %s: %w", c.Cert, c.Key, err)
	}
	return []tls.Certificate{cert}, nil
}

// Client is the *tls.Config of a client connection, nil when the section
// is empty (the URL's scheme then decides, with the system roots).
func (c Config) Client() (*tls.Config, error) {
	if !c.Enabled() {
		return nil, nil
	}
	pool, err := c.pool()
	if err != nil {
		return nil, err
	}
	certs, err := c.pair()
	if err != nil {
		return nil, err
	}
	return &tls.Config{RootCAs: pool, Certificates: certs, ServerName: c.ServerName, MinVersion: tls.VersionTLS12}, nil
}

// Server is the *tls.Config of an embedded server's listener, nil when the
// section is empty. With CA set, clients must present a certificate it
// signed.
func (c Config) Server() (*tls.Config, error) {
	if !c.Enabled() {
		return nil, nil
	}
	certs, err := c.pair()
	if err != nil {
		return nil, err
	}
	if certs == nil {
		return nil, errors.New("a server needs cert and key")
	}
	pool, err := c.pool()
	if err != nil {
		return nil, err
	}
	t := &tls.Config{Certificates: certs, MinVersion: tls.VersionTLS12}
	if pool != nil {
		t.ClientCAs, t.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return t, nil
}
