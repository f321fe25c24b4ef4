package mqtt

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"sync/atomic"

	mochi "github.com/mochi-mqtt/server/v2"
	mochibolt "github.com/mochi-mqtt/server/v2/hooks/storage/bolt"
	"go.etcd.io/bbolt"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/internal/mqttlisten"
	"github.com/passline/passline/wire"
)

// MaxPacket is the largest MQTT packet the embedded broker reads: the
// largest payload any decoder accepts (wire.MaxPayload) plus room for the
// topic, packet id and properties. A client that sends a larger one is
// disconnected as soon as its fixed header announces the size, before the
// broker allocates room for it.
const MaxPacket = wire.MaxPayload + 4<<10

// Broker is an embedded MQTT broker (mochi-mqtt) on one TCP listener, for
// a box with no Mosquitto. Without Persist, sessions and unacked messages
// live in memory and die with the process; with Persist they are kept in a
// bbolt file so a broker restart loses no QoS 1 message.
//
// With Ingest set, the store's device events do not go through a
// subscriber: the broker hands each to Ingest and acknowledges it only
// once Ingest returns (see ingestHook), so they need no session store.
type Broker struct {
	// Listen is host:port; port 0 picks a free one (see Addr).
	Listen string
	// Persist, when not "", is the file holding sessions and in-flight messages.
	Persist string
	// TLS, when set, makes the listener TLS-only (URL is then tls://).
	TLS *tls.Config
	// Store and Ingest, when set, take the store's device events from
	// inside the broker: Ingest must return only once the event is
	// committed (ingest.Writer.Ingest).
	Store  string
	Ingest func(context.Context, agent.Input) error
	// Users, when not nil, are the only credentials the broker accepts:
	// username to bcrypt hash of the password (LoadPasswordFile). Nil
	// accepts any client (for a loopback-only listener).
	Users map[string][]byte
	// Reserved is a client id no client may connect with: the agent's
	// own, so no device or stranger can take over its session.
	Reserved string
	Log      *slog.Logger

	srv     *mochi.Server
	addr    string
	ingest  *ingestHook
	auth    *authHook
	cancel  context.CancelFunc
	serving atomic.Bool
}

// Run binds the listener and starts serving; it returns once listening.
func (b *Broker) Run() error {
	log := b.Log
	if log == nil {
		log = slog.Default()
	}
	caps := mochi.NewDefaultServerCapabilities()
	caps.MaximumPacketSize = MaxPacket
	srv := mochi.New(&mochi.Options{Logger: log, Capabilities: caps})
	b.auth = &authHook{users: b.Users, reserved: b.Reserved, log: log, localPass: localPassword()}
	if err := srv.AddHook(b.auth, nil); err != nil {
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
	if b.Ingest != nil {
		var ctx context.Context
		ctx, b.cancel = context.WithCancel(context.Background())
		b.ingest = &ingestHook{store: b.Store, ingest: b.Ingest, ctx: ctx}
		if err := srv.AddHook(b.ingest, nil); err != nil {
			b.cancel()
			return fmt.Errorf("embedded broker ingest hook: %w", err)
		}
	}
	tcp := mqttlisten.NewTCP(listenerID, b.Listen, b.TLS)
	if err := srv.AddListener(tcp); err != nil {
		b.stopIngest()
		srv.Close()
		return fmt.Errorf("embedded broker listen %s: %w", b.Listen, err)
	}
	if err := srv.Serve(); err != nil {
		b.stopIngest()
		srv.Close()
		return fmt.Errorf("embedded broker serve: %w", err)
	}
	b.srv, b.addr = srv, tcp.Address()
	b.serving.Store(true)
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

// Close stops the broker and closes every client connection. A publish
// waiting for Ingest is refused without a PUBACK, so its publisher resends
// it to the next run.
func (b *Broker) Close() error {
	if b.srv == nil {
		return nil
	}
	b.serving.Store(false)
	b.stopIngest()
	// mqttlisten.Shutdown, not srv.Close: it closes the clients without
	// the deadlock in mochi's own closer, and the listener (mqttlisten.TCP)
	// closes connections still attaching and waits until mochi has counted
	// each, so srv.Close's wait for its clients races no late Add (CI's race
	// detector caught one while TestAgentClientIDIsNotTakeable's second
	// client connected as the broker closed).
	return mqttlisten.Shutdown(b.srv)
}

// listenerID names the broker's one TCP listener.
const listenerID = "tcp"

func (b *Broker) stopIngest() {
	if b.cancel != nil {
		b.cancel()
	}
}

// LocalCredentials are the username and password the agent's own clients
// (the pass board's device watcher) connect with when Users is set; the
// password is random per Run and never leaves the process.
func (b *Broker) LocalCredentials() (username, password string) {
	if b.auth == nil || b.auth.users == nil {
		return "", ""
	}
	return localUser, b.auth.localPass
}

// Serving reports whether the broker is listening.
func (b *Broker) Serving() bool { return b.serving.Load() }

// Received counts the store's device events handed to Ingest.
func (b *Broker) Received() int64 {
	if b.ingest == nil {
		return 0
	}
	return b.ingest.received.Load()
}

// Refused counts connections refused for bad credentials or the reserved
// client id.
func (b *Broker) Refused() int64 {
	if b.auth == nil {
		return 0
	}
	return b.auth.refused.Load()
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
