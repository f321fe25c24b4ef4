// Package natsdtest starts a real embedded JetStream server for one test:
// loopback, a random port, its store in the test's temp dir, shut down and
// waited for in cleanup.
package natsdtest

import (
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Server starts the server; configure, when not nil, amends its options
// first (natsauth.Trust.Configure puts it in operator mode).
func Server(tb testing.TB, configure func(*server.Options) error) *server.Server {
	tb.Helper()
	opts := &server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: tb.TempDir(), NoSigs: true, NoLog: true}
	if configure != nil {
		if err := configure(opts); err != nil {
			tb.Fatal(err)
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		tb.Fatal(err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		tb.Fatal("nats not ready")
	}
	tb.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
	return ns
}

// JetStream starts the server and returns a connection to it, closed in
// cleanup, with its JetStream context.
func JetStream(tb testing.TB) (*nats.Conn, jetstream.JetStream) {
	tb.Helper()
	return Connect(tb, Server(tb, nil).ClientURL())
}

// Connect connects to url, closing the connection in cleanup, and returns
// it with its JetStream context.
func Connect(tb testing.TB, url string) (*nats.Conn, jetstream.JetStream) {
	tb.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	return nc, js
}
