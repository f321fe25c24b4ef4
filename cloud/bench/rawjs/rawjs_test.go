package rawjs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/bench/rawjs"
	"github.com/passline/passline/cloud/natsd/natsdtest"
)

// TestRateAcksEveryMessage: the baseline stores n messages, more than one
// publish window, and its consumer acks every one of them before it
// reports a rate; the stream it made is gone afterwards.
func TestRateAcksEveryMessage(t *testing.T) {
	nc, js := natsdtest.JetStream(t)
	n := 3*rawjs.Window + 7
	if r := rawjs.Rate(t, nc.ConnectedUrl(), n, 300); r <= 0 {
		t.Fatalf("rate %v", r)
	}
	for name := range js.StreamNames(context.Background()).Name() {
		t.Fatalf("stream %s left behind", name)
	}
}

// TestConsumeRateAcksWhatFillStored: Fill's messages are all stored, and
// ConsumeRate leaves none of them unacked on its durable consumer.
func TestConsumeRateAcksWhatFillStored(t *testing.T) {
	_, js := natsdtest.JetStream(t)
	ctx := context.Background()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
		t.Fatal(err)
	}
	n := rawjs.Window + 1
	rawjs.Fill(t, js, n, func(i int) *nats.Msg { return &nats.Msg{Subject: fmt.Sprintf("s.%d", i), Data: []byte("x")} })
	st, err := js.Stream(ctx, "S")
	if err != nil {
		t.Fatal(err)
	}
	if got := st.CachedInfo().State.Msgs; got != uint64(n) {
		t.Fatalf("stored %d of %d", got, n)
	}
	rawjs.ConsumeRate(t, js, "S", n)
	c, err := js.Consumer(ctx, "S", "raw")
	if err != nil {
		t.Fatal(err)
	}
	// Acks are fire-and-forget: give the server a moment to count them.
	var info *jetstream.ConsumerInfo
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if info, err = c.Info(ctx); err != nil {
			t.Fatal(err)
		}
		if info.AckFloor.Consumer == uint64(n) {
			break
		}
	}
	if info.AckFloor.Consumer != uint64(n) || info.NumAckPending != 0 {
		t.Fatalf("ack floor %d, pending %d; want %d, 0", info.AckFloor.Consumer, info.NumAckPending, n)
	}
}
