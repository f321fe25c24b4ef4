// Package natsd runs an embedded nats-server with JetStream, so a laptop or
// a test needs no external NATS. Production points the relay at a real
// cluster by configuration instead.
package natsd

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Options configure the embedded server.
type Options struct {
	Listen     string // host:port for clients; port 0 picks a free port
	StoreDir   string // JetStream file storage; survives restarts
	ServerName string // unique per cluster node; empty outside a cluster

	ClusterName   string   // JetStream cluster name; empty means standalone
	ClusterListen string   // host:port for routes; port 0 picks a free port
	Routes        []string // nats-route://host:port of the other nodes

	ReadyTimeout time.Duration // how long Start waits for the server; default 10s

	// TLS, when set, makes the client port TLS-only (tlsconf.Config.Server);
	// ClientURL then starts with tls://.
	TLS *tls.Config

	// Mappings are subject mappings (source → destination, destinations may
	// use the mapping functions such as {{partition(n,1)}}) applied to every
	// client's publishes, as a server config file's mappings block would.
	// Every node of a cluster needs the same ones.
	Mappings map[string]string

	// Auth, when set, configures client authentication on the server's
	// options, e.g. natsauth.Trust.Configure (operator mode: every client
	// needs credentials). Without it and without client certificates
	// ANYONE WHO REACHES Listen may publish and subscribe to anything.
	Auth func(*server.Options) error

	// MaxStore caps JetStream file storage (bytes); 0 leaves the server's
	// default, 75% of the disk's free space when the server starts. Give
	// every node of a cluster the same: the servers place a one-replica
	// stream on the node with the most storage left, and nodes that
	// measured the same disk at different moments put every such stream
	// (all the partitions) on one node.
	MaxStore int64
}

// Server is a running embedded nats-server.
type Server struct {
	srv *server.Server
}

// Start starts the server and waits until it accepts clients. JetStream
// data lives in StoreDir, so a restarted server keeps its streams.
func Start(o Options) (*Server, error) {
	opts, err := serverOptions(o)
	if err != nil {
		return nil, err
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("new nats server: %w", err)
	}
	for src, dest := range o.Mappings {
		if err := srv.GlobalAccount().AddMapping(src, dest); err != nil {
			return nil, fmt.Errorf("nats subject mapping %s → %s: %w", src, dest, err)
		}
	}
	go srv.Start()
	wait := o.ReadyTimeout
	if wait <= 0 {
		wait = 10 * time.Second
	}
	if !srv.ReadyForConnections(wait) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("nats server on %s not ready after %s", o.Listen, wait)
	}
	return &Server{srv: srv}, nil
}

func serverOptions(o Options) (*server.Options, error) {
	host, port, err := splitPort(o.Listen)
	if err != nil {
		return nil, fmt.Errorf("nats listen: %w", err)
	}
	opts := &server.Options{
		ServerName: o.ServerName,
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   o.StoreDir,
		NoSigs:     true,
		NoLog:      true,
		MaxPayload: 1 << 20,
		// 0 is the server's default; a negative limit is refused by it.
		JetStreamMaxStore: o.MaxStore,
	}
	if o.TLS != nil {
		opts.TLSConfig, opts.TLSTimeout = o.TLS, 5
		opts.TLSVerify = o.TLS.ClientAuth == tls.RequireAndVerifyClientCert
	}
	if o.Auth != nil {
		if err := o.Auth(opts); err != nil {
			return nil, fmt.Errorf("nats auth: %w", err)
		}
	}
	if o.ClusterListen == "" {
		return opts, nil
	}
	chost, cport, err := splitPort(o.ClusterListen)
	if err != nil {
		return nil, fmt.Errorf("nats cluster listen: %w", err)
	}
	opts.Cluster = server.ClusterOpts{Name: o.ClusterName, Host: chost, Port: cport}
	for _, r := range o.Routes {
		u, err := url.Parse(r)
		if err != nil {
			return nil, fmt.Errorf("nats route %q: %w", r, err)
		}
		opts.Routes = append(opts.Routes, u)
	}
	return opts, nil
}

// splitPort parses host:port; port 0 becomes nats-server's "random port".
func splitPort(hostport string) (string, int, error) {
	host, p, err := net.SplitHostPort(hostport)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("port %q: %w", p, err)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	return host, port, nil
}

// ClientURL is the nats:// URL clients connect to, with the port actually bound.
func (s *Server) ClientURL() string { return s.srv.ClientURL() }

// ClusterAddr is the route address actually bound, or "" outside a cluster.
func (s *Server) ClusterAddr() string {
	if a := s.srv.ClusterAddr(); a != nil {
		return a.String()
	}
	return ""
}

// Shutdown stops the server and waits until it has stopped. JetStream data
// already written to StoreDir stays.
func (s *Server) Shutdown() {
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
}
