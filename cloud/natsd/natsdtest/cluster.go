package natsdtest

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/cloud/natsd"
	"github.com/passline/passline/internal/freeport"
)

// Cluster is a JetStream cluster of embedded servers (cloud/natsd) on
// loopback random ports, each node's store in the test's temp dir. A node
// can be stopped and started again on the same ports and store.
type Cluster struct {
	tb      testing.TB
	Opts    []natsd.Options
	Servers []*natsd.Server
}

// StartCluster starts nodes servers n1..nN with the given subject mappings
// (nil: none), waits until JetStream has a meta leader, and shuts every
// node down in cleanup.
func StartCluster(tb testing.TB, nodes int, mappings map[string]string) *Cluster {
	tb.Helper()
	return startCluster(tb, nodes, mappings, 0)
}

// SpreadMaxStore is the JetStream storage limit StartClusterSpread gives
// every node.
const SpreadMaxStore = 16 << 30

// StartClusterSpread is StartCluster with the same JetStream storage limit
// (SpreadMaxStore) on every node, so one-replica streams are spread over
// the nodes (fewest streams first) instead of all landing on the node
// that found the most free disk at start (natsd.Options.MaxStore).
func StartClusterSpread(tb testing.TB, nodes int, mappings map[string]string) *Cluster {
	tb.Helper()
	return startCluster(tb, nodes, mappings, SpreadMaxStore)
}

func startCluster(tb testing.TB, nodes int, mappings map[string]string, maxStore int64) *Cluster {
	tb.Helper()
	c := &Cluster{tb: tb, Servers: make([]*natsd.Server, nodes)}
	var routes []string
	clientPorts, routePorts := make([]int, nodes), make([]int, nodes)
	for i := range nodes {
		clientPorts[i], routePorts[i] = freeport.Port(tb), freeport.Port(tb)
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", routePorts[i]))
	}
	dir := tb.TempDir()
	for i := range nodes {
		c.Opts = append(c.Opts, natsd.Options{
			Listen: fmt.Sprintf("127.0.0.1:%d", clientPorts[i]), StoreDir: filepath.Join(dir, fmt.Sprint(i)),
			ServerName: fmt.Sprintf("n%d", i+1), ClusterName: "passline-test",
			ClusterListen: fmt.Sprintf("127.0.0.1:%d", routePorts[i]), Routes: routes, ReadyTimeout: 30 * time.Second,
			Mappings: mappings, MaxStore: maxStore,
		})
	}
	errs := make(chan error, nodes)
	for i := range nodes {
		go func() { errs <- c.Start(i) }()
	}
	tb.Cleanup(func() {
		for i := range c.Servers {
			c.Stop(i)
		}
	})
	for range nodes {
		if err := <-errs; err != nil {
			tb.Fatal(err)
		}
	}
	c.waitJetStream()
	return c
}

// waitJetStream waits until the cluster has elected a JetStream meta leader.
func (c *Cluster) waitJetStream() {
	_, js := Connect(c.tb, c.URL())
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := js.AccountInfo(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			c.tb.Fatalf("JetStream cluster not ready in 60s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Start starts node i (again).
func (c *Cluster) Start(i int) error {
	s, err := natsd.Start(c.Opts[i])
	if err != nil {
		return fmt.Errorf("start node %d: %w", i+1, err)
	}
	c.Servers[i] = s
	return nil
}

// Stop shuts node i down; its store stays.
func (c *Cluster) Stop(i int) {
	if c.Servers[i] != nil {
		c.Servers[i].Shutdown()
		c.Servers[i] = nil
	}
}

// URL lists every node's client URL, comma-separated.
func (c *Cluster) URL() string {
	var urls []string
	for i := range c.Opts {
		urls = append(urls, c.NodeURL(i))
	}
	return strings.Join(urls, ",")
}

// NodeURL is node i's client URL.
func (c *Cluster) NodeURL(i int) string { return "nats://" + c.Opts[i].Listen }
