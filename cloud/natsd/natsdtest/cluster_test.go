package natsdtest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/natsd/natsdtest"
)

// TestStartClusterSpreadPlacesStreamsOnEveryNode: with the same storage
// limit on every node, six one-replica streams land on all three nodes
// (two each: the server breaks the tie by streams per node), not all on
// the node that found the most free disk at start.
func TestStartClusterSpreadPlacesStreamsOnEveryNode(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test skipped in -short")
	}
	cl := natsdtest.StartClusterSpread(t, 3, nil)
	_, js := natsdtest.Connect(t, cl.URL())
	ctx := context.Background()
	perNode := map[string]int{}
	for i := range 6 {
		s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: fmt.Sprintf("S%d", i), Subjects: []string{fmt.Sprintf("s%d.>", i)}, Replicas: 1})
		if err != nil {
			t.Fatal(err)
		}
		info := s.CachedInfo()
		if info.Cluster == nil || info.Cluster.Leader == "" {
			t.Fatalf("stream S%d has no leader: %+v", i, info.Cluster)
		}
		perNode[info.Cluster.Leader]++
	}
	if len(perNode) != 3 {
		t.Fatalf("six R1 streams on %d node(s): %v; want all three", len(perNode), perNode)
	}
}
