package natsd_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/passline/passline/cloud/natsd"
	"github.com/passline/passline/wire"
)

// The decision mapping spreads stores exactly as wire.Partition says: a
// decision published to passline.{store}.decision arrives on
// passline.decision.{wire.Partition(store, P)}.{store} and nowhere else.
func TestDecisionMappingAgreesWithPartition(t *testing.T) {
	for _, parts := range []int{2, 4, 7} {
		t.Run(fmt.Sprint(parts), func(t *testing.T) {
			src, dest := wire.DecisionMapping(parts)
			s, err := natsd.Start(natsd.Options{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), Mappings: map[string]string{src: dest}})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Shutdown()
			nc, err := nats.Connect(s.ClientURL())
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			got, err := nc.SubscribeSync("passline.>")
			if err != nil {
				t.Fatal(err)
			}
			used := map[int]bool{}
			for i := range 64 {
				store := fmt.Sprintf("store-%d", i)
				if err := nc.Publish(wire.DecisionSubject(store), nil); err != nil {
					t.Fatal(err)
				}
				m, err := got.NextMsg(5 * time.Second)
				if err != nil {
					t.Fatal(err)
				}
				p := wire.Partition(store, parts)
				used[p] = true
				if want := wire.PartitionSubject(p, store); m.Subject != want {
					t.Fatalf("%s arrived on %s, want %s", store, m.Subject, want)
				}
				if st, err := wire.DecisionStore(m.Subject); err != nil || st != store {
					t.Fatalf("DecisionStore(%s) = %q, %v", m.Subject, st, err)
				}
			}
			if len(used) != parts {
				t.Fatalf("64 stores used %d of %d partitions", len(used), parts)
			}
		})
	}
}
