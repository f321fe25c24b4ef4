// Package tlstest makes a throwaway CA and certificates in a test's temp
// dir, for TLS tests of the brokers and their clients.
package tlstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Files are PEM file paths: a CA and a certificate it signed for
// 127.0.0.1 and localhost, usable by a server and a client alike.
type Files struct {
	CA, Cert, Key string
}

// New writes a fresh CA (named name) and a leaf certificate into a temp
// dir of tb. Two calls make two unrelated CAs.
func New(tb testing.TB, name string) Files {
	tb.Helper()
	dir := tb.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	leaf := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		tb.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		tb.Fatal(err)
	}
	f := Files{CA: filepath.Join(dir, "ca.pem"), Cert: filepath.Join(dir, "cert.pem"), Key: filepath.Join(dir, "key.pem")}
	write(tb, f.CA, "CERTIFICATE", caDER)
	write(tb, f.Cert, "CERTIFICATE", leafDER)
	write(tb, f.Key, "PRIVATE KEY", keyDER)
	return f
}

func write(tb testing.TB, path, typ string, der []byte) {
	tb.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		tb.Fatal(err)
	}
}

// Setenv makes Files with New and points PASSLINE_TLS_CA, PASSLINE_TLS_CERT
// and PASSLINE_TLS_KEY at them for the test, which is how the example
// configs in configs/tls read their files.
func Setenv(t *testing.T, name string) Files {
	t.Helper()
	f := New(t, name)
	t.Setenv("PASSLINE_TLS_CA", f.CA)
	t.Setenv("PASSLINE_TLS_CERT", f.Cert)
	t.Setenv("PASSLINE_TLS_KEY", f.Key)
	return f
}
