package natsjs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/wire"
)

// Pending keeps decisions that wait for a rider in PASSLINE_PENDING under
// {store}.{order}.{decision-hash}. Release publishes them back to DECISIONS,
// where the consumer delivers them now that the order has a rider.
type Pending struct {
	KV jetstream.KeyValue
	JS jetstream.JetStream
}

// Park implements relay.Pending.
func (p Pending) Park(ctx context.Context, d wire.Decision, raw []byte) error {
	_, err := p.KV.Put(ctx, orderKey(d.Store, d.OrderID)+"."+idKey(d.ID), raw)
	return err
}

// Release implements relay.Pending. Each entry is published with a message
// id made of its key and revision, so replicas releasing the same entry at
// once publish it once; the entry is deleted only after the publish.
func (p Pending) Release(ctx context.Context, store, order string) (int, error) {
	keys, err := p.keys(ctx, orderKey(store, order)+".*")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, key := range keys {
		e, err := p.KV.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return n, err
		}
		msg := nats.NewMsg(wire.DecisionSubject(store))
		msg.Data = e.Value()
		msg.Header.Set(wire.HeaderMsgID, fmt.Sprintf("released.%s.%d", key, e.Revision()))
		if _, err := p.JS.PublishMsg(ctx, msg); err != nil {
			return n, fmt.Errorf("republish %s: %w", key, err)
		}
		if err := p.KV.Delete(ctx, key, jetstream.LastRevision(e.Revision())); err == nil {
			n++
		}
	}
	return n, nil
}

// Sweep drops waiting decisions that expired before their rider was known
// and returns how many it dropped. Replicas may sweep at once: each entry is
// deleted, and counted, by one of them.
func (p Pending) Sweep(ctx context.Context, now time.Time) (int, error) {
	keys, err := p.keys(ctx, ">")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, key := range keys {
		e, err := p.KV.Get(ctx, key)
		if err != nil {
			continue
		}
		d, err := wire.DecodeDecision(e.Value())
		if err == nil && now.Before(d.ExpiresAt) {
			continue
		}
		if err := p.KV.Delete(ctx, key, jetstream.LastRevision(e.Revision())); err == nil {
			n++
		}
	}
	return n, nil
}

func (p Pending) keys(ctx context.Context, filter string) ([]string, error) {
	l, err := p.KV.ListKeysFiltered(ctx, filter)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list waiting decisions %s: %w", filter, err)
	}
	defer l.Stop()
	var keys []string
	for k := range l.Keys() {
		keys = append(keys, k)
	}
	return keys, nil
}
