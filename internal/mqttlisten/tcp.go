// Package mqttlisten provides a TCP listener for an embedded mochi-mqtt
// broker that can be closed while clients are still connecting.
//
// Mochi v2.7.9's own listeners.TCP starts a goroutine per accepted
// connection, and that goroutine joins the server's ClientsWg only once it
// runs (Server.attachClient calls ClientsWg.Add(1) first thing). A
// Server.Close that reaches ClientsWg.Wait in between races that Add — the
// race detector reports it, and Wait may return with a client still
// attaching (upstream mochi-mqtt/server#541, #424). A client that attaches
// after the listener has disconnected its clients stays connected, so Wait
// can also block until its peer goes away.
//
// TCP closes in an order that leaves no such window: it stops accepting,
// lets the server disconnect its clients, closes every connection it
// accepted that is still open, and waits until each accepted connection's
// goroutine has been read from or closed by the server (both happen after
// the Add). Only then does Server.Close go on to wait for its clients, and
// every one of them is already on its way out.
//
// Shutdown closes a server's listeners that way before Server.Close, with
// a client closer that avoids a deadlock in mochi's own.
//
// It is plumbing for the agent's embedded broker and for the tests that run
// one: it knows no Passline type.
package mqttlisten

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Shutdown stops srv: it closes every listener, disconnecting each
// listener's clients with a DISCONNECT (server shutting down), and then
// closes the server, which stops its hooks. Use it instead of srv.Close:
// mochi's own client closer (Server.closeListenerClients, through
// Clients.GetByListener) takes the clients' read lock twice, and deadlocks
// when a client's session ends between the two (Clients.Delete waiting for
// the write lock). This one reads the clients under one read lock
// (Clients.GetAll).
func Shutdown(srv *mochi.Server) error {
	srv.Listeners.CloseAll(func(id string) {
		for _, cl := range srv.Clients.GetAll() {
			if cl.Net.Listener == id && !cl.Closed() {
				_ = srv.DisconnectClient(cl, packets.ErrServerShuttingDown)
			}
		}
	})
	return srv.Close()
}

// DrainTimeout bounds how long Close waits for accepted connections to be
// taken up by the server after it has closed them. A goroutine that is
// still not there by then is logged and left: Close must return.
const DrainTimeout = 5 * time.Second

// TCP is a mochi listener on one TCP address, optionally with TLS. It
// implements listeners.Listener.
type TCP struct {
	id      string
	address string
	tls     *tls.Config

	mu      sync.Mutex
	ln      net.Listener
	log     *slog.Logger
	closed  bool
	open    map[*conn]struct{} // accepted, not yet closed
	pending sync.WaitGroup     // accepted, not yet read or closed by the server
}

var _ listeners.Listener = (*TCP)(nil)

// NewTCP returns a listener with the given id on address (host:port; port
// 0 picks a free one), serving TLS when cfg is not nil. It binds in Init.
func NewTCP(id, address string, cfg *tls.Config) *TCP {
	return &TCP{id: id, address: address, tls: cfg, open: map[*conn]struct{}{}}
}

// ID is the listener's id.
func (l *TCP) ID() string { return l.id }

// Protocol is "tcp".
func (l *TCP) Protocol() string { return "tcp" }

// Address is the bound address once Init has run, else the configured one.
func (l *TCP) Address() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ln != nil {
		return l.ln.Addr().String()
	}
	return l.address
}

// Init binds the address.
func (l *TCP) Init(log *slog.Logger) error {
	ln, err := net.Listen("tcp", l.address)
	if err != nil {
		return fmt.Errorf("listen %s: %w", l.address, err)
	}
	if l.tls != nil {
		ln = tls.NewListener(ln, l.tls)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ln, l.log = ln, log
	return nil
}

// Serve accepts connections until Close and hands each to establish on a
// goroutine of its own.
func (l *TCP) Serve(establish listeners.EstablishFn) {
	l.mu.Lock()
	ln := l.ln
	l.mu.Unlock()
	if ln == nil {
		return
	}
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		c := &conn{Conn: nc, l: l}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			_ = nc.Close()
			return
		}
		l.open[c] = struct{}{}
		l.pending.Add(1)
		l.mu.Unlock()
		go func() {
			if err := establish(l.id, c); err != nil && l.log != nil {
				l.log.Debug("mqtt client ended", "listener", l.id, "remote", nc.RemoteAddr().String(), "error", err)
			}
		}()
	}
}

// Close stops accepting, has closeClients disconnect the server's clients,
// closes every connection still open, and waits (up to DrainTimeout) until
// the server has taken up every connection accepted. Only the first call
// does anything.
func (l *TCP) Close(closeClients listeners.CloseFn) {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return
	}
	l.closed = true
	ln := l.ln
	l.mu.Unlock()
	if ln != nil {
		_ = ln.Close()
	}
	if closeClients != nil {
		closeClients(l.id)
	}
	l.mu.Lock()
	left := make([]*conn, 0, len(l.open))
	for c := range l.open {
		left = append(left, c)
	}
	l.mu.Unlock()
	for _, c := range left {
		_ = c.Conn.Close() // the raw close: not the server's
	}
	done := make(chan struct{})
	go func() {
		l.pending.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(DrainTimeout):
		if l.log != nil {
			l.log.Warn("mqtt listener closed with connections the server never took up", "listener", l.id, "after", DrainTimeout)
		}
	}
}

// conn is an accepted connection. Its first Read or Close by the server
// marks it taken up: mochi calls ClientsWg.Add(1) before either.
type conn struct {
	net.Conn
	l     *TCP
	taken sync.Once
	gone  sync.Once
}

func (c *conn) take() { c.taken.Do(c.l.pending.Done) }

// Read implements net.Conn.
func (c *conn) Read(b []byte) (int, error) {
	c.take()
	return c.Conn.Read(b)
}

// Close implements net.Conn.
func (c *conn) Close() error {
	c.take()
	c.gone.Do(func() {
		c.l.mu.Lock()
		delete(c.l.open, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
