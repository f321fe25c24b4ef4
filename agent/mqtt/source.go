// Package mqtt is the agent's MQTT side: a paho source that hands device
// events to the writer, and an optional embedded broker (mochi-mqtt) for
// boxes that run no Mosquitto.
package mqtt

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/wire"
)

// Source subscribes to a store's device topics with QoS 1 on a persistent
// session (CleanSession false, stable client id), so the broker keeps every
// message the agent has not acknowledged, across agent restarts and
// reconnects. Auto-ack is off: each message is acked by the writer only
// after its bbolt commit.
//
// The message handler only hands the message to the writer's bounded queue
// and returns; it never publishes or waits for the network. When the queue
// is full (a burst larger than the queue: a broker such as mochi puts no
// in-flight limit on MQTT 3.1.1 clients) it waits up to MaxWait for room,
// which pushes back on the broker through TCP; the writer drains the queue
// on its own goroutine, so this cannot deadlock. If there is still no room,
// the message is left unacked and counted, and once the queue has room
// again the source reconnects so the broker redelivers every unacked
// message of the session.
type Source struct {
	URL, ClientID, Username, Password string
	Store                             string
	// TLS, when set, is used for a tls:// (ssl://, mqtts://) URL.
	TLS *tls.Config
	// Offer hands a message to the writer, waiting at most the given time
	// for room (ingest.Writer.OfferWait).
	Offer func(agent.Input, time.Duration) bool
	// MaxWait bounds the wait for queue room; zero means 5 s (a third of
	// the keepalive).
	MaxWait time.Duration
	// Room reports whether the writer's queue has room again after an overflow.
	Room func() bool
	Log  *slog.Logger

	client    paho.Client
	connected atomic.Bool
	overflow  atomic.Int64
	received  atomic.Int64
	resync    atomic.Bool
	cancel    context.CancelFunc
	wg        sync.WaitGroup
}

// Run starts connecting (retrying until the broker answers) and returns at
// once; it does not wait for the first connection.
func (s *Source) Run(ctx context.Context) error {
	if s.Log == nil {
		s.Log = slog.Default()
	}
	opts := paho.NewClientOptions().AddBroker(s.URL).SetClientID(s.ClientID).
		SetUsername(s.Username).SetPassword(s.Password).
		SetCleanSession(false).SetAutoReconnect(true).SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).SetMaxReconnectInterval(5 * time.Second).
		SetKeepAlive(15 * time.Second).SetOrderMatters(true).SetAutoAckDisabled(true).
		SetDefaultPublishHandler(s.handle).SetOnConnectHandler(s.onConnect).SetTLSConfig(s.TLS).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			s.connected.Store(false)
			s.Log.Warn("mqtt connection lost; reconnecting", "err", err)
		})
	s.client = paho.NewClient(opts)
	s.client.Connect() // with ConnectRetry the token completes only once connected
	ctx, s.cancel = context.WithCancel(ctx)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.watchOverflow(ctx)
	}()
	return nil
}

// onConnect subscribes on every (re)connect: paho does not resubscribe. It
// runs on its own goroutine, so it may wait; a failed subscribe is retried
// while the connection lasts (a persistent session keeps the old
// subscription meanwhile).
func (s *Source) onConnect(c paho.Client) {
	for attempt := 1; c.IsConnectionOpen(); attempt++ {
		tok := c.Subscribe(wire.StoreFilter(s.Store), 1, nil)
		if tok.WaitTimeout(10*time.Second) && tok.Error() == nil {
			s.connected.Store(true)
			s.Log.Info("mqtt connected and subscribed", "url", s.URL, "client_id", s.ClientID, "filter", wire.StoreFilter(s.Store))
			return
		}
		s.Log.Error("mqtt subscribe failed; retrying", "filter", wire.StoreFilter(s.Store), "err", tok.Error(), "attempt", attempt)
		time.Sleep(time.Duration(min(attempt, 10)) * time.Second)
	}
}

// handle runs on paho's delivery goroutine: it must not block.
func (s *Source) handle(_ paho.Client, m paho.Message) {
	s.received.Add(1)
	if isCommand(m.Topic()) {
		m.Ack() // our own commands to bridge outputs: not events
		return
	}
	in := agent.Input{Topic: m.Topic(), Payload: m.Payload(), Ack: m.Ack, Received: time.Now()}
	wait := s.MaxWait
	if wait <= 0 {
		wait = 5 * time.Second
	}
	if !s.Offer(in, wait) {
		s.overflow.Add(1)
		s.resync.Store(true)
	}
}

func isCommand(topic string) bool {
	parts := strings.SplitN(topic, "/", 5)
	return len(parts) == 5 && parts[3] == "cmd"
}

// watchOverflow reconnects after an overflow once the queue has room, so
// the broker redelivers the messages that were left unacked.
func (s *Source) watchOverflow(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !s.resync.Load() || (s.Room != nil && !s.Room()) {
			continue
		}
		s.resync.Store(false)
		s.Log.Warn("ingest queue overflowed; reconnecting so the broker redelivers unacked messages", "overflow_total", s.overflow.Load())
		s.client.Disconnect(250)
		s.connected.Store(false)
		s.client.Connect()
	}
}

// Connected reports whether the source is connected and subscribed.
func (s *Source) Connected() bool { return s.connected.Load() }

// Overflow counts messages left unacked because the queue was full.
func (s *Source) Overflow() int64 { return s.overflow.Load() }

// Received counts messages delivered by the broker.
func (s *Source) Received() int64 { return s.received.Load() }

// Close disconnects. Messages not yet acked stay with the broker's session.
func (s *Source) Close() {
	if s.cancel != nil {
		s.cancel()
	}
	s.wg.Wait()
	if s.client != nil {
		s.client.Disconnect(250)
	}
	s.connected.Store(false)
}

// String names the source for logs.
func (s *Source) String() string { return fmt.Sprintf("mqtt %s as %s", s.URL, s.ClientID) }
