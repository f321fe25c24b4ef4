// Package uplink drains the agent's outbox to NATS JetStream. bbolt is the
// only buffer: the NATS connection has no reconnect buffer, and an outbox
// entry is deleted only after JetStream acknowledged it (a duplicate ack
// counts: the stream already holds it). Entries are published in outbox
// order, so decisions about one order reach the stream in the order they
// were made.
package uplink

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/passline/passline/internal/tracing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/wire"
)

// Uplink publishes outbox entries to the DECISIONS stream.
type Uplink struct {
	URL, Name, Creds string
	Store            string
	// TLS, when set, secures the connection (nats.Secure).
	TLS *tls.Config
	// Outbox is what the uplink drains; the agent's state db is one.
	Outbox agent.Outbox
	// Window bounds async publishes awaiting their ack.
	Window int
	// AckTimeout bounds the wait for one ack.
	AckTimeout time.Duration
	// ReplayAfter: an entry older than this when published is sent with replayed=true.
	ReplayAfter time.Duration
	// Pace is the pause between windows while a backlog drains.
	Pace time.Duration
	// Stream settings used when the stream must be created.
	Replicas                int
	DuplicateWindow, MaxAge time.Duration
	// Remove applies outbox deletions; nil means Outbox.RemoveOutbox at once.
	// The app passes the writer's Remove, which folds them into its next
	// transaction (ingest.Writer.Remove).
	Remove func([]agent.Removal)
	// ObserveAck, if set, is called once for each decision the stream
	// stored (not for a duplicate) with the time from its creation (its
	// bbolt commit) to JetStream's PubAck; a decision held through an
	// outage counts its whole wait. It runs on the publish path and must
	// not block.
	ObserveAck func(time.Duration)
	// Tracer makes one agent.uplink.publish span per decision sent, a
	// child of the decision's span, ended at the stream's ack; its
	// traceparent goes in the message's header. New sets tracing.Off's.
	Tracer trace.Tracer
	Now    func() time.Time
	Log    *slog.Logger

	kick    chan struct{}
	nc      *nats.Conn
	js      jetstream.JetStream
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	started time.Time
	upSince atomic.Int64 // unix nanos of the current connection, 0 when down
	outage  atomic.Bool  // the link went down since start
	stream  bool
	// mark is the highest outbox key published or dropped in order; entries
	// up to it wait for their removal and are not sent again by this process.
	mark     uint64
	m        counters
	lastSync atomic.Int64 // unix nanos of the last drain that emptied the outbox
}

type counters struct {
	published, duplicates, errors, replayed atomic.Int64
}

// tracerName names the uplink's tracer (the instrumenting package).
const tracerName = "github.com/passline/passline/agent/uplink"

// New returns an uplink that drains ob, with defaults; it starts nothing.
func New(url, store string, ob agent.Outbox) *Uplink {
	return &Uplink{URL: url, Store: store, Outbox: ob, Window: 64, AckTimeout: 5 * time.Second,
		ReplayAfter: 30 * time.Second, Pace: 5 * time.Millisecond, Replicas: 1,
		DuplicateWindow: 2 * time.Minute, MaxAge: 7 * 24 * time.Hour, Now: time.Now,
		Tracer: tracing.Off().Tracer(tracerName), Log: slog.Default(), kick: make(chan struct{}, 1)}
}

// Kick asks the uplink to drain now. It never blocks.
func (u *Uplink) Kick() {
	select {
	case u.kick <- struct{}{}:
	default:
	}
}

// StoreConnOptions are the options of every agent connection to NATS:
// reconnect forever, also after a failed first connect, and no in-memory
// reconnect buffer (bbolt is the only buffer); with creds, the store's
// credentials and inbox prefix (store credentials from cloud/natsauth
// receive replies, JetStream acks included, only below it); with tlsc, TLS.
func StoreConnOptions(name, store, creds string, tlsc *tls.Config) []nats.Option {
	opts := []nats.Option{nats.Name(name), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true),
		nats.ReconnectBufSize(-1), nats.ReconnectWait(500 * time.Millisecond)}
	if creds != "" {
		opts = append(opts, nats.UserCredentials(creds), nats.CustomInboxPrefix(wire.StoreInboxPrefix(store)))
	}
	if tlsc != nil {
		opts = append(opts, nats.Secure(tlsc))
	}
	return opts
}

// Run starts connecting (retrying forever) and the drain loop; it returns
// at once.
func (u *Uplink) Run(ctx context.Context) error {
	u.started = u.Now()
	opts := append(StoreConnOptions(u.Name, u.Store, u.Creds, u.TLS),
		nats.ConnectHandler(func(*nats.Conn) { u.up() }),
		nats.ReconnectHandler(func(*nats.Conn) { u.up() }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			u.upSince.Store(0)
			u.outage.Store(true)
			u.Log.Warn("nats disconnected; decisions stay in the outbox", "err", err)
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			// Permission violations (credentials without the store's
			// rights) arrive here, not as call errors.
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			u.Log.Warn("nats async error", "store", u.Store, "subject", subject, "err", err)
		}))
	nc, err := nats.Connect(u.URL, opts...)
	if err != nil {
		return fmt.Errorf("connect nats %s: %w", u.URL, err)
	}
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(2*u.Window))
	if err != nil {
		nc.Close()
		return fmt.Errorf("jetstream on %s: %w", u.URL, err)
	}
	u.nc, u.js = nc, js
	if nc.IsConnected() {
		u.up()
	}
	ctx, u.cancel = context.WithCancel(ctx)
	u.wg.Add(1)
	go func() {
		defer u.wg.Done()
		u.loop(ctx)
	}()
	return nil
}

// Conn is the agent's NATS connection once Run has returned, nil before.
// Others on the box (configsync) share it; the uplink alone closes it.
func (u *Uplink) Conn() *nats.Conn { return u.nc }

func (u *Uplink) up() {
	u.upSince.Store(u.Now().UnixNano())
	u.Log.Info("nats connected", "url", u.URL)
	u.Kick()
}

// Close stops draining, then drains the NATS connection.
func (u *Uplink) Close() {
	if u.cancel != nil {
		u.cancel()
	}
	u.wg.Wait()
	if u.nc != nil {
		if err := u.nc.Drain(); err != nil {
			u.nc.Close()
		}
	}
}

func (u *Uplink) loop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	backoff := 100 * time.Millisecond
	for {
		select {
		case <-ctx.Done():
			return
		case <-u.kick:
		case <-t.C:
		}
		if !u.nc.IsConnected() {
			continue
		}
		if err := u.drain(ctx); err != nil {
			u.m.errors.Add(1)
			u.Log.Warn("publish decisions failed; retrying", "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 10*time.Second)
			u.Kick()
			continue
		}
		backoff = 100 * time.Millisecond
	}
}

// drain publishes windows of entries until the outbox is empty.
func (u *Uplink) drain(ctx context.Context) error {
	for ctx.Err() == nil {
		if !u.stream {
			if err := u.ensureStream(ctx); err != nil {
				return err
			}
		}
		entries, err := u.Outbox.PeekOutboxAfter(u.mark, u.Window)
		if err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		if len(entries) == 0 {
			u.lastSync.Store(u.Now().UnixNano())
			return nil
		}
		if err := u.publish(ctx, entries); err != nil {
			if isNoStream(err) {
				u.stream = false
			}
			return err
		}
		if len(entries) == u.Window && u.Pace > 0 {
			time.Sleep(u.Pace)
		}
	}
	return ctx.Err()
}

func isNoStream(err error) bool {
	return errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) ||
		errors.Is(err, jetstream.ErrStreamNotFound)
}
