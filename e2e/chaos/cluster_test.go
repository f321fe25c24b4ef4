package chaos_test

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	"github.com/passline/passline/internal/freeport"
)

// cluster is a 3-node JetStream cluster in this process. Nodes do not
// advertise their peers to clients, so a client stays on the URLs it was
// given (a cut uplink stays cut).
type cluster struct {
	opts    []*server.Options
	mu      sync.Mutex
	servers []*server.Server
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{}
	var routes []*url.URL
	dir := t.TempDir()
	ports := make([][2]int, 3)
	for i := range 3 {
		ports[i] = [2]int{freeport.Port(t), freeport.Port(t)}
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", ports[i][1])})
	}
	for i := range 3 {
		c.opts = append(c.opts, &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: ports[i][0], JetStream: true,
			StoreDir: filepath.Join(dir, fmt.Sprint(i)), NoSigs: true, NoLog: true,
			Cluster: server.ClusterOpts{Name: "chaos", Host: "127.0.0.1", Port: ports[i][1], NoAdvertise: true},
			Routes:  routes,
		})
	}
	c.servers = make([]*server.Server, 3)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range 3 {
		wg.Go(func() { errs[i] = c.start(i) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for i := range 3 {
			c.stop(i)
		}
	})
	return c
}

func (c *cluster) start(i int) error {
	s, err := server.NewServer(c.opts[i].Clone())
	if err != nil {
		return fmt.Errorf("node %d: %w", i+1, err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("node %d not ready in 30s", i+1)
	}
	c.mu.Lock()
	c.servers[i] = s
	c.mu.Unlock()
	return nil
}

func (c *cluster) stop(i int) {
	c.mu.Lock()
	s := c.servers[i]
	c.servers[i] = nil
	c.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// healthy reports whether every node is up and its JetStream current.
func (c *cluster) healthy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.servers {
		if s == nil || !s.JetStreamIsCurrent() {
			return false
		}
	}
	return true
}

func (c *cluster) nodeURL(i int) string { return fmt.Sprintf("nats://127.0.0.1:%d", c.opts[i].Port) }

func (c *cluster) url() string {
	return strings.Join([]string{c.nodeURL(0), c.nodeURL(1), c.nodeURL(2)}, ",")
}
