package freeport_test

import (
	"net"
	"strings"
	"testing"

	"github.com/passline/passline/internal/freeport"
)

// The address it returns is on loopback and can be bound.
func TestAddrCanBeBound(t *testing.T) {
	addr := freeport.Addr(t)
	if !strings.HasPrefix(addr, "127.0.0.1:") || strings.HasSuffix(addr, ":0") {
		t.Fatalf("Addr = %q, want 127.0.0.1 and a port", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("bind %s: %v", addr, err)
	}
	ln.Close()
}
