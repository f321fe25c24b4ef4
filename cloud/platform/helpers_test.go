package platform_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/breaker"
	"github.com/passline/passline/cloud/natsd/natsdtest"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/cloud/platform/platformtest"
	"github.com/passline/passline/wire"
)

// env is one test's platform gateway state on a real embedded JetStream.
type env struct {
	js     jetstream.JetStream
	creds  natsjs.PlatformCredentials
	orders natsjs.PlatformOrders
	seen   natsjs.PlatformSeen
	dead   natsjs.PlatformDeadLetters
	logs   *syncBuffer
	log    *slog.Logger
}

func newEnv(t *testing.T) *env {
	t.Helper()
	_, js := natsdtest.JetStream(t)
	ctx := context.Background()
	b, err := natsjs.SetupPlatform(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := natsjs.Setup(ctx, js, natsjs.Options{Replicas: 1, DuplicateWindow: time.Minute, OutboxDuplicate: time.Minute}); err != nil {
		t.Fatal(err)
	}
	sealer, err := platform.NewSealer(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	return &env{
		js: js, creds: natsjs.PlatformCredentials{KV: b.Creds, Sealer: sealer}, orders: natsjs.PlatformOrders{KV: b.Orders},
		seen: natsjs.PlatformSeen{KV: b.Seen}, dead: natsjs.PlatformDeadLetters{JS: js}, logs: logs,
		log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// connect stores credentials and an order record for the store.
func (e *env) connect(t *testing.T, store string, c platform.Credentials, orders ...platform.Order) {
	t.Helper()
	ctx := context.Background()
	if err := e.creds.Put(ctx, store, c); err != nil {
		t.Fatal(err)
	}
	for _, o := range orders {
		if _, err := e.orders.Update(ctx, o.Store, o.OrderID, func(cur *platform.Order) error { *cur = o; return nil }); err != nil {
			t.Fatal(err)
		}
	}
}

// channel is the platform channel of adapter with fast retries.
func (e *env) channel(a platform.Adapter) *platform.Channel {
	return &platform.Channel{
		Adapter: a, Orders: e.orders, Credentials: e.creds, Dead: e.dead, Log: e.log,
		Timeout: 2 * time.Second,
		Retry:   breaker.Retry{Attempts: 3, Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond, Multiplier: 2},
		Breaker: breaker.Config{Failures: 1000, CoolDown: 200 * time.Millisecond},
	}
}

// deadLetters returns the reasons parked in the store's dead-letter subject.
func (e *env) deadLetters(t *testing.T, store string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := e.js.Stream(ctx, natsjs.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		if m.Subject == natsjs.DLQSubject(store) {
			out = append(out, m.Header.Get(natsjs.HeaderDLQReason))
		}
	}
	return out
}

// note builds the notification the relay would hand the channel.
func note(id, store, order string, kind wire.DecisionKind, event string, decided time.Time, eta *time.Time) wire.Notification {
	return wire.Notification{ID: id, Rider: "r1", Store: store, OrderID: order, Kind: kind, EventID: event,
		Text: "x", ETA: eta, DecidedAt: decided, SentAt: decided}
}

func ptr[T any](v T) *T { return &v }

func fixture(t *testing.T, name string) []byte {
	return platformtest.Fixture(t, filepath.Join("testdata", name))
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
