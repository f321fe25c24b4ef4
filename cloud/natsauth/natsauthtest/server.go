// Package natsauthtest runs an operator-mode nats-server for tests of code
// that connects with minted credentials (cloud/natsauth).
package natsauthtest

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/passline/passline/cloud/natsauth"
)

// Server starts an embedded JetStream server on a random loopback port
// that trusts tr, storing under a temp dir; cleanup shuts it down and waits.
func Server(tb testing.TB, tr *natsauth.Trust) *server.Server {
	tb.Helper()
	opts := &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: tb.TempDir(), NoSigs: true, NoLog: true}
	if err := tr.Configure(opts); err != nil {
		tb.Fatal(err)
	}
	s, err := server.NewServer(opts)
	if err != nil {
		tb.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		tb.Fatal("nats server not ready")
	}
	tb.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
	return s
}
