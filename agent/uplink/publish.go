package uplink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/passline/passline/internal/tracing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/wire"
)

// ensureStream makes sure the DECISIONS stream exists and takes this
// store's subject. The cloud normally creates it; the agent creates it when
// missing so it also works against a bare nats-server, and only adds
// subjects to an existing stream, never narrowing what the cloud set up.
func (u *Uplink) ensureStream(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, u.AckTimeout)
	defer cancel()
	s, err := u.js.Stream(ctx, wire.StreamDecisions)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		_, err = u.js.CreateStream(ctx, jetstream.StreamConfig{
			Name: wire.StreamDecisions, Subjects: []string{wire.SubjectDecisions},
			Storage: jetstream.FileStorage, Replicas: u.Replicas, MaxAge: u.MaxAge,
			Duplicates: u.DuplicateWindow,
		})
		if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return fmt.Errorf("create stream %s: %w", wire.StreamDecisions, err)
		}
		u.Log.Info("created stream", "stream", wire.StreamDecisions)
	case err != nil:
		return fmt.Errorf("look up stream %s: %w", wire.StreamDecisions, err)
	default:
		cfg := s.CachedInfo().Config
		if !covers(cfg.Subjects, wire.DecisionSubject(u.Store)) {
			cfg.Subjects = append(cfg.Subjects, wire.SubjectDecisions)
			if _, err := u.js.UpdateStream(ctx, cfg); err != nil {
				return fmt.Errorf("add subject to stream %s: %w", wire.StreamDecisions, err)
			}
		}
	}
	u.stream = true
	return nil
}

func covers(filters []string, subject string) bool {
	for _, f := range filters {
		if f == subject || f == wire.SubjectDecisions || f == "passline.>" || f == ">" {
			return true
		}
	}
	return false
}

// publish sends a window of entries asynchronously, then waits for their
// acks in order. Entries up to the first failure are removed from the
// outbox; the failed one and everything after it stay, to be resent (a
// resend of one the stream already holds is acked as a duplicate).
func (u *Uplink) publish(ctx context.Context, entries []agent.Entry) error {
	now := u.Now()
	var removals []agent.Removal
	futures := make([]jetstream.PubAckFuture, 0, len(entries))
	keys := make([]uint64, 0, len(entries))
	created := make([]time.Time, 0, len(entries))
	var sendErr error
	spans := make([]trace.Span, 0, len(entries))
	defer func() {
		for _, sp := range spans {
			sp.End()
		}
	}()
	for _, e := range entries {
		d := e.Decision
		if !d.Kind.Critical() && !now.Before(d.ExpiresAt) {
			removals = append(removals, agent.Removal{Key: e.Key, Reason: agent.DropExpired})
			continue
		}
		f, sp, err := u.send(d, now)
		spans = append(spans, sp)
		if err != nil {
			sp.SetStatus(codes.Error, err.Error())
			sendErr = err
			break
		}
		futures, keys, created = append(futures, f), append(keys, e.Key), append(created, d.CreatedAt)
	}
	err := u.await(ctx, futures, keys, created, &removals)
	u.advance(entries, removals)
	if u.Remove != nil {
		u.Remove(removals)
	} else if rerr := u.Outbox.RemoveOutbox(removals); rerr != nil {
		return fmt.Errorf("remove published decisions from outbox: %w", rerr)
	}
	return errors.Join(err, sendErr)
}

// advance moves the mark over the leading entries that were published or
// dropped; it stops at the first entry still to be sent.
func (u *Uplink) advance(entries []agent.Entry, removals []agent.Removal) {
	done := make(map[uint64]bool, len(removals))
	for _, r := range removals {
		done[r.Key] = true
	}
	for _, e := range entries {
		if !done[e.Key] {
			return
		}
		u.mark = e.Key
	}
}

// send starts one async publish, marking a late decision as replayed. It
// returns the decision's publish span, which the caller ends.
func (u *Uplink) send(d wire.Decision, now time.Time) (jetstream.PubAckFuture, trace.Span, error) {
	subject := wire.DecisionSubject(u.Store)
	ctx, span := u.Tracer.Start(tracing.FromTraceparent(context.Background(), d.Traceparent), "agent.uplink.publish",
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attribute.String("messaging.destination.name", subject),
			attribute.String("passline.decision_id", d.ID), attribute.String("passline.kind", string(d.Kind))))
	if u.replayed(d, now) {
		d.Replayed = true
		u.m.replayed.Add(1)
	}
	b, err := d.Marshal()
	if err != nil {
		return nil, span, fmt.Errorf("encode decision %s: %w", d.ID, err)
	}
	msg := nats.NewMsg(subject)
	msg.Data = b
	if tp := tracing.Traceparent(ctx); tp != "" {
		msg.Header.Set(wire.HeaderTraceparent, tp)
	}
	u.Log.Debug("publishing decision", "decision_id", d.ID, "order_id", d.OrderID, "kind", d.Kind, "trace_id", d.TraceID)
	f, err := u.js.PublishMsgAsync(msg, jetstream.WithMsgID(d.ID))
	if err != nil {
		return nil, span, fmt.Errorf("publish decision %s: %w", d.ID, err)
	}
	return f, span, nil
}

// replayed: the decision is older than ReplayAfter, or it was made before
// this process started, or before the link came back from an outage.
func (u *Uplink) replayed(d wire.Decision, now time.Time) bool {
	if now.Sub(d.CreatedAt) > u.ReplayAfter || d.CreatedAt.Before(u.started) {
		return true
	}
	up := u.upSince.Load()
	return u.outage.Load() && up != 0 && d.CreatedAt.UnixNano() < up
}

// await collects acks in order, stopping at the first failure.
func (u *Uplink) await(ctx context.Context, futures []jetstream.PubAckFuture, keys []uint64, created []time.Time, removals *[]agent.Removal) error {
	timer := time.NewTimer(u.AckTimeout)
	defer timer.Stop()
	for i, f := range futures {
		select {
		case ack := <-f.Ok():
			if ack.Duplicate {
				u.m.duplicates.Add(1)
			} else {
				u.m.published.Add(1)
				if u.ObserveAck != nil && !created[i].IsZero() {
					u.ObserveAck(max(u.Now().Sub(created[i]), 0))
				}
			}
			*removals = append(*removals, agent.Removal{Key: keys[i]})
		case err := <-f.Err():
			return fmt.Errorf("decision %s: %w", f.Msg().Header.Get(wire.HeaderMsgID), err)
		case <-timer.C:
			return fmt.Errorf("decision %s: no ack within %s", f.Msg().Header.Get(wire.HeaderMsgID), u.AckTimeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Status is the uplink's state for the status page.
type Status struct {
	Connected  bool      `json:"connected"`
	Published  int64     `json:"published"`
	Duplicates int64     `json:"duplicates"`
	Errors     int64     `json:"publish_errors"`
	Replayed   int64     `json:"replayed"`
	LastSync   time.Time `json:"last_sync,omitempty"`
}

// Status reports the link state and counters.
func (u *Uplink) Status() Status {
	s := Status{Connected: u.nc != nil && u.nc.IsConnected(), Published: u.m.published.Load(),
		Duplicates: u.m.duplicates.Load(), Errors: u.m.errors.Load(), Replayed: u.m.replayed.Load()}
	if n := u.lastSync.Load(); n != 0 {
		s.LastSync = time.Unix(0, n)
	}
	return s
}
