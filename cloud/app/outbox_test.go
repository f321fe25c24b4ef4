package app_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/wire"
)

func streamMsgs(t *testing.T, js jetstream.JetStream, name string) uint64 {
	t.Helper()
	s, err := js.Stream(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// With the rider channel alone, a delivered decision costs one stored
// write that the relay waits for: its notification in RIDER_OUTBOX, which
// is also its idempotency mark. No mark is written to PASSLINE_DELIVERED,
// and every decision is delivered once however often it is redelivered
// (the stream refuses a second message on the decision's subject).
func TestOneStoredWritePerDecision(t *testing.T) {
	cfg := relaytest.Config(t.TempDir())
	cfg.Relay.OutboxDuplicate = time.Second // the per-subject limit, not the msg-id window, refuses repeats
	m := relaytest.MustRun(t, cfg)
	nc, js := relaytest.Connect(t, m.NATSURL())
	riders := relaytest.Subscribe(t, nc)
	ctx := context.Background()
	if err := relaytest.Assign(nc, "s1", "o1", "r1"); err != nil {
		t.Fatal(err)
	}
	const n = 20
	for i := range n {
		if err := relaytest.Publish(ctx, js, relaytest.Decision(fmt.Sprintf("w-%d", i), "s1", "o1", wire.KindReadySoon)); err != nil {
			t.Fatal(err)
		}
	}
	if !relaytest.WaitFor(15*time.Second, func() bool { d, _, _, _ := riders.Counts(); return d == n }) {
		t.Fatal("not every decision delivered")
	}
	if got := streamMsgs(t, js, natsjs.StreamOutbox); got != n {
		t.Fatalf("RIDER_OUTBOX holds %d notifications for %d decisions", got, n)
	}
	if got := streamMsgs(t, js, "KV_"+natsjs.BucketDelivered); got != 0 {
		t.Fatalf("PASSLINE_DELIVERED holds %d marks; the outbox record is the mark", got)
	}
	// Past the outbox's msg-id window, a second notification for the same
	// decision is refused on its subject.
	time.Sleep(1500 * time.Millisecond)
	rc, err := natsjs.NewRiderChannel([]*nats.Conn{nc}, true, 1, 16, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	note := wire.Notification{ID: "w-0", Rider: "r1", Store: "s1", OrderID: "o1", Kind: wire.KindReadySoon,
		Text: "again", DecidedAt: time.Now(), SentAt: time.Now()}
	if err := rc.Deliver(ctx, note); !errors.Is(err, cloud.ErrDuplicate) {
		t.Fatalf("second notification of w-0: %v, want cloud.ErrDuplicate", err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, total, dups, _ := riders.Counts(); total != n || dups != 0 {
		t.Fatalf("riders got %d messages (%d duplicates) for %d decisions", total, dups, n)
	}
}
