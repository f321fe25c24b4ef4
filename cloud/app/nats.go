package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/natsauth"
	"github.com/passline/passline/cloud/natsd"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/wire"
)

func (m *Main) startNATS(ctx context.Context) error {
	c := m.Config
	url := c.NATS.URL
	if e := c.NATS.Embedded; e.Enabled {
		stls, err := e.TLS.Server()
		if err != nil {
			return fmt.Errorf("nats.embedded.tls: %w", err)
		}
		auth, err := m.embeddedAuth()
		if err != nil {
			return err
		}
		srv, err := natsd.Start(natsd.Options{
			Listen: e.Listen, StoreDir: c.StoreDir(), ServerName: e.ServerName,
			ClusterName: e.Cluster.Name, ClusterListen: e.Cluster.Listen, Routes: e.Cluster.Routes, TLS: stls,
			Mappings: Mappings(c.Stream.Partitions), Auth: auth,
		})
		if err != nil {
			return fmt.Errorf("embedded nats: %w", err)
		}
		m.server = srv
		url = srv.ClientURL()
	}
	opts := []nats.Option{
		nats.Name("passline-cloud"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true),
		nats.ReconnectWait(250 * time.Millisecond), nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil { // nil: we closed it
				m.Logger.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) { m.Logger.Info("nats reconnected", "url", nc.ConnectedUrl()) }),
	}
	if c.NATS.Creds != "" {
		opts = append(opts, nats.UserCredentials(c.NATS.Creds))
	} else if m.ownCreds != nil {
		opts = append(opts, m.ownCreds)
	}
	ctls, err := c.NATS.TLS.Client()
	if err != nil {
		return fmt.Errorf("nats.tls: %w", err)
	}
	if ctls != nil {
		opts = append(opts, nats.Secure(ctls))
	}
	m.started.Push("nats", func() error {
		var errs []error
		for _, nc := range m.conns {
			errs = append(errs, drain(nc))
		}
		return errors.Join(errs...)
	})
	for range c.Relay.Connections {
		nc, err := nats.Connect(url, opts...)
		if err != nil {
			return fmt.Errorf("connect nats %s: %w", url, err)
		}
		m.conns = append(m.conns, nc)
		js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
		if err != nil {
			return fmt.Errorf("jetstream: %w", err)
		}
		m.jss = append(m.jss, js)
	}
	m.nc, m.js = m.conns[0], m.jss[0]
	m.registerLinkMetric()
	return nil
}

// Mappings are the subject mappings a NATS server needs for partitions:
// none for one, wire.DecisionMapping for more.
func Mappings(partitions int) map[string]string {
	if partitions <= 1 {
		return nil
	}
	src, dest := wire.DecisionMapping(partitions)
	return map[string]string{src: dest}
}

// embeddedAuth loads nats.embedded.trust, when set: the embedded server
// then requires credentials minted under it, and the relay, unless
// nats.creds names its own, connects with relay credentials it mints in
// memory.
func (m *Main) embeddedAuth() (func(*server.Options) error, error) {
	path := m.Config.NATS.Embedded.Trust
	if path == "" {
		return nil, nil
	}
	tr, err := natsauth.LoadTrust(path)
	if err != nil {
		return nil, fmt.Errorf("nats.embedded.trust: %w", err)
	}
	if m.Config.NATS.Creds == "" {
		iss, err := tr.Issuer()
		if err != nil {
			return nil, fmt.Errorf("nats.embedded.trust: %w", err)
		}
		host, _ := os.Hostname()
		creds, err := iss.MintRelay("embedded-" + host)
		if err != nil {
			return nil, fmt.Errorf("nats.embedded.trust: relay credentials: %w", err)
		}
		if m.ownCreds, err = natsauth.UserOption(creds); err != nil {
			return nil, fmt.Errorf("nats.embedded.trust: relay credentials: %w", err)
		}
	}
	return tr.Configure, nil
}

// setup creates the relay's and the HTTP API's streams and buckets
// (natsjs.Setup, natsjs.SetupAPI, and natsjs.EnsureRiderStream when the
// rider outbox is off), retrying while the cluster elects
// leaders or the connection is still being made.
func (m *Main) setup(ctx context.Context) (*natsjs.Buckets, error) {
	c := m.Config
	o := natsjs.Options{
		Replicas: c.Stream.Replicas, DuplicateWindow: c.Stream.DuplicateWindow, MaxAge: c.Stream.MaxAge,
		IdempotencyTTL: c.Relay.IdempotencyTTL, AssignmentTTL: c.Relay.AssignmentTTL, PendingTTL: c.Relay.PendingTTL,
		ETAInterval: c.Limits.ETAInterval, OrderViewTTL: c.Relay.OrderViewTTL, OutboxDuplicate: c.Relay.OutboxDuplicate,
		Partitions: c.Stream.Partitions,
	}
	b, err := untilReady(ctx, m.Logger, "set up jetstream", func(ctx context.Context) (*natsjs.Buckets, error) {
		return natsjs.Setup(ctx, m.js, o)
	})
	if err != nil {
		return nil, err
	}
	m.api, err = untilReady(ctx, m.Logger, "set up the api's jetstream state", func(ctx context.Context) (*natsjs.API, error) {
		return natsjs.SetupAPI(ctx, m.js, c.Stream.Replicas)
	})
	if err != nil || c.Relay.RiderOutbox { // the rider outboxes are the riders' log (natsjs.RiderLog)
		return b, err
	}
	m.api.RiderStream, err = untilReady(ctx, m.Logger, "set up the rider stream", func(ctx context.Context) (string, error) {
		return natsjs.EnsureRiderStream(ctx, m.js, natsjs.RiderReplay, c.Stream.Replicas)
	})
	return b, err
}

// untilReady calls fn (10 s each try) until it succeeds, ctx ends or 60 s
// have passed: JetStream answers "no responders" or times out while a
// cluster elects leaders after a node restart.
func untilReady[T any](ctx context.Context, log *slog.Logger, what string, fn func(context.Context) (T, error)) (T, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		v, err := fn(tctx)
		cancel()
		if err == nil {
			return v, nil
		}
		if errors.Is(err, natsjs.ErrPartitions) || errors.Is(err, natsjs.ErrServerTooOld) { // waiting cannot fix it
			return v, fmt.Errorf("%s: %w", what, err)
		}
		if ctx.Err() != nil || time.Now().After(deadline) {
			return v, fmt.Errorf("%s: %w", what, err)
		}
		log.Warn(what+" failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return v, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// Health is nil while the relay's NATS connections are up.
func (m *Main) Health() error {
	for _, nc := range m.conns {
		if !nc.IsConnected() {
			return errors.New("nats not connected")
		}
	}
	if len(m.conns) == 0 {
		return errors.New("not running")
	}
	return nil
}

// Assign stores a rider assignment and releases the decisions that waited
// for it (what POST /v1/assignments does). Only while running.
func (m *Main) Assign(ctx context.Context, a wire.Assignment) error { return m.relay.Assign(ctx, a) }

// Order returns the order view of store/order (natsjs.OrderState) and
// whether there is one. Only while running.
func (m *Main) Order(ctx context.Context, store, order string) (any, bool, error) {
	return m.orders.Get(ctx, store, order)
}

// Templates stores and reads merchant templates, refusing one that does
// not compile (*template.ParseError). Only while running.
func (m *Main) Templates() *natsjs.Templates { return m.templates }

// JetStream is the relay's first JetStream context, for routes that read
// streams (rider events). Only while running.
func (m *Main) JetStream() jetstream.JetStream { return m.js }

// drain drains nc, so acks and publishes in flight are sent, then closes it.
func drain(nc *nats.Conn) error {
	closed := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(closed) })
	if err := nc.Drain(); err != nil {
		nc.Close()
		return nil
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		nc.Close()
	}
	return nil
}

// Crash stops the relay as a killed process would, for tests: the NATS
// connections are closed first, so decisions in hand are neither acked nor
// marked and go to another replica after AckWait; then the rest stops as
// in Close. The embedded server, if any, is left running until Close.
func (m *Main) Crash() {
	for _, nc := range m.conns {
		nc.Close()
	}
	_ = m.started.Close()
}
