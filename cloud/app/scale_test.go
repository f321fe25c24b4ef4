package app_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/app"
	"github.com/passline/passline/cloud/natsd/natsdtest"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/wire"
)

func scaleN(t *testing.T) int {
	if s := os.Getenv("PASSLINE_SCALE_N"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("PASSLINE_SCALE_N=%q", s)
		}
		return n
	}
	return 1000
}

// TestScaleOutExactlyOnce: a 3-node cluster, decisions of 8 stores spread
// over 4 partitions (4 streams and 4 rider outboxes, 3 replicas each), two
// passline-cloud processes sharing each partition's durable consumer;
// decisions are published while one NATS node is shut down and one relay
// process is killed (SIGKILL), and both are restarted; every decision
// reaches its rider subject exactly once. The relays run with
// relay.ready_resend off: nobody acks the readies here, and the one
// re-send of an unacked ready is a second message by design
// (TestUnackedReadyIsResentOnce covers it).
// PASSLINE_SCALE_N sets the count (default 1000; make test-cloud-scale runs
// 10000); PASSLINE_SCALE_INPROC=1 runs the relays in-process instead.
func TestScaleOutExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test skipped in -short")
	}
	n := scaleN(t)
	const partitions, stores = 4, 8
	cl := natsdtest.StartCluster(t, 3, app.Mappings(partitions))
	const ackWait = 3 * time.Second // the relays' consumer.ack_wait
	const publishFor = 6 * time.Second
	relayA := startRelayNode(t, cl.URL(), partitions)
	relayB := startRelayNode(t, cl.URL(), partitions)

	// The rider side listens on node 1, which stays up: core NATS drops
	// messages for a subscriber while it reconnects, which is the rider
	// gateway's contract, not the relay's.
	sc, _ := relaytest.Connect(t, cl.NodeURL(0))
	riders := relaytest.Subscribe(t, sc)
	nc, js := relaytest.Connect(t, cl.URL())
	const orders = 48
	store := func(o int) string { return fmt.Sprintf("s%d", o%stores) }
	for o := range orders {
		if err := relaytest.Assign(nc, store(o), fmt.Sprintf("o%d", o), fmt.Sprintf("r%d", o%7)); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	var window []wire.Decision
	for i := range n {
		switch i {
		case n / 3:
			t.Logf("%d published: killing NATS node 3 and relay B (%s)", i, relayB.name())
			cl.Stop(2)
			relayB.kill()
		case 2 * n / 3:
			t.Logf("%d published: restarting NATS node 3 and relay B", i)
			if err := cl.Start(2); err != nil {
				t.Fatal(err)
			}
			relayB = startRelayNode(t, cl.URL(), partitions)
		}
		kind := wire.KindReady
		if i%2 == 1 {
			kind = wire.KindReadySoon
		}
		window = append(window, relaytest.Decision(fmt.Sprintf("dec-%06d", i), store(i%orders), fmt.Sprintf("o%d", i%orders), kind))
		if len(window) == 100 || i == n-1 {
			publishWindow(t, js, window)
			window = window[:0]
			// Spread publishing over at least publishFor, so the kill and
			// the restart happen with decisions in flight on both sides.
			time.Sleep(time.Until(start.Add(publishFor * time.Duration(i+1) / time.Duration(n))))
		}
	}
	t.Logf("published %d decisions in %s", n, time.Since(start).Round(time.Millisecond))
	if !relaytest.WaitFor(120*time.Second, func() bool { d, _, _, _ := riders.Counts(); return d == n }) {
		d, total, dups, bad := riders.Counts()
		t.Fatalf("rider subjects got %d distinct of %d decisions (%d messages, %d duplicates, %d unreadable)", d, n, total, dups, bad)
	}
	t.Logf("all %d delivered %s after the first publish", n, time.Since(start).Round(time.Millisecond))
	time.Sleep(2 * ackWait) // let any redelivery of in-flight messages happen
	distinct, total, dups, bad := riders.Counts()
	if distinct != n || total != n || dups != 0 || bad != 0 {
		t.Fatalf("distinct %d, messages %d, duplicates %d, unreadable %d; want exactly %d once each", distinct, total, dups, bad, n)
	}
	t.Logf("relays: %s and %s", relayA.name(), relayB.name())
	checkPartitionsUsed(t, js, partitions, n)
}

// checkPartitionsUsed checks that the partition streams, not DECISIONS,
// took the decisions, and that more than one partition did.
func checkPartitionsUsed(t *testing.T, js jetstream.JetStream, partitions, n int) {
	t.Helper()
	var used int
	var total uint64
	for p := range partitions {
		got := streamMsgs(t, js, wire.DecisionStream(p, partitions))
		t.Logf("%s holds %d decisions", wire.DecisionStream(p, partitions), got)
		total += got
		if got > 0 {
			used++
		}
	}
	if rest := streamMsgs(t, js, wire.StreamDecisions); rest != 0 || total < uint64(n) || used < 2 {
		t.Fatalf("DECISIONS holds %d, the partitions %d of %d decisions, %d partitions used", rest, total, n, used)
	}
}

// publishWindow publishes decisions asynchronously and waits for their
// acks; any that failed (a node went down) are published again one by one.
func publishWindow(t *testing.T, js jetstream.JetStream, ds []wire.Decision) {
	t.Helper()
	futures := make([]jetstream.PubAckFuture, len(ds))
	for i, d := range ds {
		b, err := d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		msg := nats.NewMsg(wire.DecisionSubject(d.Store))
		msg.Data = b
		msg.Header.Set(wire.HeaderMsgID, d.ID)
		futures[i], _ = js.PublishMsgAsync(msg)
	}
	// One deadline for the whole window: when a node dies with the window
	// in flight, every future may hang, and 100 waits of 10 s each would
	// outlast the test.
	deadline := time.After(10 * time.Second)
	expired := false
	for i, f := range futures {
		ok := false
		if f != nil && !expired {
			select {
			case <-f.Ok():
				ok = true
			case <-f.Err():
			case <-deadline:
				expired = true
			}
		}
		if !ok {
			publishRetry(t, js, ds[i])
		}
	}
}

func publishRetry(t *testing.T, js jetstream.JetStream, d wire.Decision) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := relaytest.Publish(ctx, js, d)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("publish %s: %v", d.ID, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
