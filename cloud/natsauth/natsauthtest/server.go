// Package natsauthtest runs an operator-mode nats-server for tests of code
// that connects with minted credentials (cloud/natsauth).
package natsauthtest

import (
	"testing"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/passline/passline/cloud/natsauth"
	"github.com/passline/passline/cloud/natsd/natsdtest"
)

// Server starts an embedded JetStream server on a random loopback port
// that trusts tr, storing under a temp dir; cleanup shuts it down and waits.
func Server(tb testing.TB, tr *natsauth.Trust) *server.Server {
	tb.Helper()
	return natsdtest.Server(tb, tr.Configure)
}
