// Package freeport finds a free loopback TCP port, for tests that must
// name a port before something binds it (a child process, a broker
// restarted on the same address), where port 0 cannot be used.
//
// The port was free a moment ago; another process may take it before the
// caller binds it, so callers bind once and fail loudly rather than retry
// in a loop. It is test plumbing only: it knows no Passline type.
package freeport

import (
	"net"
	"strconv"
	"testing"
)

// Port returns a loopback TCP port that was free a moment ago; tb fails
// when none can be found.
func Port(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// Addr is Port as a "127.0.0.1:port" address.
func Addr(tb testing.TB) string {
	tb.Helper()
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(Port(tb)))
}
