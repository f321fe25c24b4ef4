package mqtt

import (
	"crypto/tls"
	"fmt"
	"log/slog"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"
	mochibolt "github.com/mochi-mqtt/server/v2/hooks/storage/bolt"
	"github.com/mochi-mqtt/server/v2/listeners"
	"go.etcd.io/bbolt"
)

// Broker is an embedded MQTT broker (mochi-mqtt) on one TCP listener, for
// a box with no Mosquitto. Without Persist, sessions and unacked messages
// live in memory and die with the process; with Persist they are kept in a
// bbolt file so a broker restart loses no QoS 1 message.
type Broker struct {
	// Listen is host:port; port 0 picks a free one (see Addr).
	Listen string
	// Persist, when not "", is the file holding sessions and in-flight messages.
	Persist string
	// TLS, when set, makes the listener TLS-only (URL is then tls://).
	TLS *tls.Config
	Log *slog.Logger

	srv  *mochi.Server
	addr string
}

// Run binds the listener and starts serving; it returns once listening.
func (b *Broker) Run() error {
	log := b.Log
	if log == nil {
		log = slog.Default()
	}
	srv := mochi.New(&mochi.Options{Logger: log.With("component", "mqtt-broker")})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		return fmt.Errorf("embedded broker auth hook: %w", err)
	}
	if err := srv.AddHook(&takeoverHook{srv: srv, log: log}, nil); err != nil {
		return fmt.Errorf("embedded broker takeover hook: %w", err)
	}
	if b.Persist != "" {
		opts := &mochibolt.Options{Path: b.Persist, Options: &bbolt.Options{Timeout: 3e9}}
		if err := srv.AddHook(boltStore{new(mochibolt.Hook)}, opts); err != nil {
			return fmt.Errorf("embedded broker store %s: %w", b.Persist, err)
		}
	}
	tcp := listeners.NewTCP(listeners.Config{ID: "tcp", Address: b.Listen, TLSConfig: b.TLS})
	if err := srv.AddListener(tcp); err != nil {
		srv.Close()
		return fmt.Errorf("embedded broker listen %s: %w", b.Listen, err)
	}
	if err := srv.Serve(); err != nil {
		srv.Close()
		return fmt.Errorf("embedded broker serve: %w", err)
	}
	b.srv, b.addr = srv, tcp.Address()
	return nil
}

// Addr is the bound address, host:port.
func (b *Broker) Addr() string { return b.addr }

// URL is the broker's URL for a client, tcp://host:port, or tls://host:port
// with TLS.
func (b *Broker) URL() string {
	if b.TLS != nil {
		return "tls://" + b.addr
	}
	return "tcp://" + b.addr
}

// Close stops the broker and closes every client connection.
func (b *Broker) Close() error {
	if b.srv == nil {
		return nil
	}
	return b.srv.Close()
}

// Inflight is the number of QoS 1/2 messages the broker holds unacked for a
// client (0 for an unknown client).
func (b *Broker) Inflight(clientID string) int {
	if b.srv == nil {
		return 0
	}
	cl, ok := b.srv.Clients.Get(clientID)
	if !ok {
		return 0
	}
	return cl.State.Inflight.Len()
}

// Subscribed reports whether the broker holds a session for clientID with
// at least one subscription (connected or not).
func (b *Broker) Subscribed(clientID string) bool {
	if b.srv == nil {
		return false
	}
	cl, ok := b.srv.Clients.Get(clientID)
	return ok && cl.State.Subscriptions.Len() > 0
}
