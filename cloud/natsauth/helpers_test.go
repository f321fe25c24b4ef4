package natsauth_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/natsauth"
	"github.com/passline/passline/cloud/natsauth/natsauthtest"
	"github.com/passline/passline/wire"
)

// startServer runs an embedded operator-mode JetStream server trusting tr.
func startServer(t *testing.T, tr *natsauth.Trust) *server.Server {
	t.Helper()
	return natsauthtest.Server(t, tr)
}

// errs collects asynchronous errors (permission violations) of a connection.
type errs struct {
	mu   sync.Mutex
	list []error
}

func (e *errs) handler(_ *nats.Conn, _ *nats.Subscription, err error) {
	e.mu.Lock()
	e.list = append(e.list, err)
	e.mu.Unlock()
}

// waitFor polls until an async error containing want arrives.
func (e *errs) waitFor(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		e.mu.Lock()
		for _, err := range e.list {
			if strings.Contains(err.Error(), want) {
				e.mu.Unlock()
				return
			}
		}
		e.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("no async error containing %q; got %v", want, e.list)
}

// connect writes creds to a file and connects with it.
func connect(t *testing.T, s *server.Server, creds []byte, opts ...nats.Option) (*nats.Conn, *errs) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "user.creds")
	if err := os.WriteFile(path, creds, 0o600); err != nil {
		t.Fatal(err)
	}
	e := &errs{}
	opts = append(opts, nats.UserCredentials(path), nats.ErrorHandler(e.handler))
	nc, err := nats.Connect(s.ClientURL(), opts...)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc, e
}

type fixture struct {
	srv    *server.Server
	issuer *natsauth.Issuer
	relay  jetstream.JetStream
}

// setup starts a server, and as a relay creates DECISIONS and the config
// and status buckets with configs for stores A and B.
func setup(t *testing.T) fixture {
	t.Helper()
	tr, err := natsauth.NewTrust("passline-test")
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, tr)
	iss, err := tr.Issuer()
	if err != nil {
		t.Fatal(err)
	}
	creds, err := iss.MintRelay("r1")
	if err != nil {
		t.Fatal(err)
	}
	nc, _ := connect(t, s, creds)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: wire.StreamDecisions, Subjects: []string{wire.SubjectDecisions}}); err != nil {
		t.Fatalf("relay creates stream: %v", err)
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: wire.BucketConfig})
	if err != nil {
		t.Fatalf("relay creates config bucket: %v", err)
	}
	for _, st := range []string{"A", "B"} {
		if _, err := kv.Put(ctx, st, []byte("config of "+st)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: natsauth.BucketConfigStatus}); err != nil {
		t.Fatal(err)
	}
	return fixture{srv: s, issuer: iss, relay: js}
}

// storeConn connects as store with its minted credentials and inbox prefix.
func (f fixture) storeConn(t *testing.T, store string) (jetstream.JetStream, *nats.Conn, *errs) {
	t.Helper()
	creds, err := f.issuer.MintStore(store)
	if err != nil {
		t.Fatal(err)
	}
	nc, e := connect(t, f.srv, creds, nats.CustomInboxPrefix(natsauth.InboxPrefix(store)))
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return js, nc, e
}

func shortCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// deniedCtx bounds a request the server is expected to refuse: a
// permission violation sends no reply, so the request ends by timeout.
func deniedCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}
