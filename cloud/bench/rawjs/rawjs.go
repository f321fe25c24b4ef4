// Package rawjs is the JetStream baseline that the relay and the whole
// pipeline are measured against: messages stored in a stream, then
// consumed and acked by one durable pull consumer with nothing else in the
// way. cloud/bench and e2e/bench both take their raw figure from here, so
// the baseline is one loop.
package rawjs

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Window is how many async publishes may wait for their acks at once.
const Window = 256

// Publisher publishes asynchronously with at most Window publishes
// awaiting their acks (an unbounded async publish can stall the client).
type Publisher struct {
	tb testing.TB
	js jetstream.JetStream
	n  int
}

// NewPublisher returns a bounded async publisher on js.
func NewPublisher(tb testing.TB, js jetstream.JetStream) *Publisher {
	return &Publisher{tb: tb, js: js}
}

// Publish starts one async publish; every Window publishes it waits for
// all outstanding acks.
func (p *Publisher) Publish(msg *nats.Msg) {
	if _, err := p.js.PublishMsgAsync(msg); err != nil {
		p.tb.Fatal(err)
	}
	if p.n++; p.n%Window == 0 {
		p.Wait()
	}
}

// Wait returns once every publish so far is acked; it fails the test
// after 60 s.
func (p *Publisher) Wait() {
	select {
	case <-p.js.PublishAsyncComplete():
	case <-time.After(60 * time.Second):
		p.tb.Fatal("async publishes not acked in 60s")
	}
}

// Fill publishes the n messages msg makes and waits for every ack.
func Fill(tb testing.TB, js jetstream.JetStream, n int, msg func(i int) *nats.Msg) {
	p := NewPublisher(tb, js)
	for i := range n {
		p.Publish(msg(i))
	}
	p.Wait()
}

// ConsumeRate creates durable pull consumer "raw" on stream, acks n stored
// messages with it, and returns msg/s from the start of consuming to the
// last ack. It fails the test if the n messages do not arrive in 120 s.
func ConsumeRate(tb testing.TB, js jetstream.JetStream, stream string, n int) float64 {
	tb.Helper()
	cons, err := js.CreateOrUpdateConsumer(context.Background(), stream, jetstream.ConsumerConfig{
		Durable: "raw", AckPolicy: jetstream.AckExplicitPolicy, MaxAckPending: 4096,
	})
	if err != nil {
		tb.Fatal(err)
	}
	var got atomic.Int64
	done := make(chan struct{})
	start := time.Now()
	cc, err := cons.Consume(func(m jetstream.Msg) {
		_ = m.Ack()
		if got.Add(1) == int64(n) {
			close(done)
		}
	}, jetstream.PullMaxMessages(512))
	if err != nil {
		tb.Fatal(err)
	}
	defer cc.Stop()
	select {
	case <-done:
	case <-time.After(120 * time.Second):
		tb.Fatalf("raw consumer: %d of %d", got.Load(), n)
	}
	return float64(n) / time.Since(start).Seconds()
}

// Rate is the consume+ack rate of the server at url: n messages of size
// bytes are stored in a stream of their own (deleted afterwards), then
// ConsumeRate acks them all.
func Rate(tb testing.TB, url string, n, size int) float64 {
	tb.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		tb.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	name := fmt.Sprintf("BENCHRAW%d", time.Now().UnixNano())
	subject := "benchraw." + name
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: name, Subjects: []string{subject}}); err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = js.DeleteStream(context.Background(), name) }()
	payload := make([]byte, size)
	Fill(tb, js, n, func(int) *nats.Msg { return &nats.Msg{Subject: subject, Data: payload} })
	return ConsumeRate(tb, js, name, n)
}
