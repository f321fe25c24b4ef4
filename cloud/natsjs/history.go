package natsjs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/wire"
)

// readyBatch is how many stored decisions one fetch asks for.
const readyBatch = 1000

// ReadyDecisions reads the ready decisions stored in the decision streams
// (DECISIONS and its partitions), those created at or after since (zero:
// all the streams keep), with an ordered consumer per stream that stops at
// the last message stored when it started. They are what the cloud fits
// the fleet prior on when no history file is given. Undecodable messages
// are counted in bad and skipped.
func ReadyDecisions(ctx context.Context, js jetstream.JetStream, since time.Time) (ds []wire.Decision, bad int, err error) {
	s, err := js.Stream(ctx, wire.StreamDecisions)
	if err != nil {
		return nil, 0, fmt.Errorf("open stream %s: %w", wire.StreamDecisions, err)
	}
	for _, name := range DecisionStreams(StreamPartitions(s.CachedInfo().Config)) {
		got, b, err := readyFrom(ctx, js, name, since)
		if err != nil {
			return ds, bad, err
		}
		ds, bad = append(ds, got...), bad+b
	}
	return ds, bad, nil
}

func readyFrom(ctx context.Context, js jetstream.JetStream, stream string, since time.Time) ([]wire.Decision, int, error) {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return nil, 0, fmt.Errorf("open stream %s: %w", stream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("stream %s info: %w", stream, err)
	}
	last := info.State.LastSeq
	if info.State.Msgs == 0 {
		return nil, 0, nil
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{wire.SubjectDecisions}, DeliverPolicy: jetstream.DeliverAllPolicy}
	if !since.IsZero() {
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	}
	c, err := s.OrderedConsumer(ctx, cfg)
	if err != nil {
		return nil, 0, fmt.Errorf("read stream %s: %w", stream, err)
	}
	var out []wire.Decision
	bad := 0
	for {
		batch, err := c.Fetch(readyBatch, jetstream.FetchMaxWait(2*time.Second))
		if err != nil {
			return out, bad, fmt.Errorf("read stream %s: %w", stream, err)
		}
		n := 0
		for msg := range batch.Messages() {
			n++
			d, err := wire.DecodeDecision(msg.Data())
			switch {
			case err != nil:
				bad++
			case d.Kind == wire.KindReady:
				out = append(out, d)
			}
			meta, err := msg.Metadata()
			if err == nil && (meta.Sequence.Stream >= last || meta.NumPending == 0) {
				return out, bad, nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return out, bad, fmt.Errorf("read stream %s: %w", stream, err)
		}
		if n == 0 { // nothing at or after since
			return out, bad, nil
		}
	}
}
