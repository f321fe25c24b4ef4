package natsjs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/wire"
)

// MaxWaiting is the most decisions kept waiting for one order's rider; a
// park beyond it drops the oldest.
const MaxWaiting = 32

// Pending keeps decisions that wait for a rider in PASSLINE_PENDING: one
// key per order ({store}.{order}) holding the raw decisions as a JSON
// array, changed only by compare-and-set. So releasing an order that has
// nothing waiting, which is what nearly every assignment does, costs one
// direct get. Release publishes the decisions back to DECISIONS, where the
// consumer delivers them now that the order has a rider.
type Pending struct {
	KV jetstream.KeyValue
	JS jetstream.JetStream
}

// Park implements relay.Pending.
func (p Pending) Park(ctx context.Context, d wire.Decision, raw []byte) error {
	key := orderKey(d.Store, d.OrderID)
	for range 5 {
		list, rev, err := p.get(ctx, key)
		if err != nil {
			return err
		}
		list = append(list, raw)
		if len(list) > MaxWaiting {
			list = list[len(list)-MaxWaiting:]
		}
		if err = p.put(ctx, key, list, rev); err == nil {
			return nil
		}
	}
	return fmt.Errorf("park %s: too many concurrent changes", key)
}

// releasedMsgID starts the message id of a released decision; the
// consumer marks such a delivery relay.Delivery.Released.
const releasedMsgID = "released."

// Release implements relay.Pending. The decisions are published with
// message ids made of their id and the entry's revision, so replicas
// releasing the same entry at once publish each once; the entry is deleted
// (at that revision) only after the publishes.
func (p Pending) Release(ctx context.Context, store, order string) (int, error) {
	key := orderKey(store, order)
	for range 5 {
		list, rev, err := p.get(ctx, key)
		if err != nil || rev == 0 {
			return 0, err
		}
		for _, raw := range list {
			msg := nats.NewMsg(wire.DecisionSubject(store))
			msg.Data = raw
			msg.Header.Set(wire.HeaderMsgID, fmt.Sprintf(releasedMsgID+"%s.%d", idKey(string(raw)), rev))
			if _, err := p.JS.PublishMsg(ctx, msg); err != nil {
				return 0, fmt.Errorf("republish waiting decision of %s: %w", key, err)
			}
		}
		err = p.KV.Delete(ctx, key, jetstream.LastRevision(rev))
		if err == nil {
			return len(list), nil
		}
		// A decision was parked meanwhile: release again; the ones already
		// published are dropped as duplicates or by their delivered marks.
	}
	return 0, fmt.Errorf("release %s: too many concurrent changes", key)
}

// Sweep drops waiting decisions that expired before their rider was known
// and returns how many it dropped. Replicas may sweep at once: each change
// is a compare-and-set, so a decision is dropped and counted once.
func (p Pending) Sweep(ctx context.Context, now time.Time) (int, error) {
	keys, err := p.keys(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, key := range keys {
		list, rev, err := p.get(ctx, key)
		if err != nil || rev == 0 {
			continue
		}
		var keep []json.RawMessage
		for _, raw := range list {
			if d, err := wire.DecodeDecision(raw); err == nil && now.Before(d.ExpiresAt) {
				keep = append(keep, raw)
			}
		}
		if len(keep) == len(list) {
			continue
		}
		if len(keep) == 0 {
			err = p.KV.Delete(ctx, key, jetstream.LastRevision(rev))
		} else {
			err = p.put(ctx, key, keep, rev)
		}
		if err == nil {
			n += len(list) - len(keep)
		}
	}
	return n, nil
}

func (p Pending) get(ctx context.Context, key string) ([]json.RawMessage, uint64, error) {
	e, err := p.KV.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	var list []json.RawMessage
	if err := json.Unmarshal(e.Value(), &list); err != nil {
		return nil, 0, fmt.Errorf("decode waiting decisions %s: %w", key, err)
	}
	return list, e.Revision(), nil
}

// put creates the entry when rev is 0, else replaces revision rev.
func (p Pending) put(ctx context.Context, key string, list []json.RawMessage, rev uint64) error {
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	if rev == 0 {
		_, err = p.KV.Create(ctx, key, b)
	} else {
		_, err = p.KV.Update(ctx, key, b, rev)
	}
	return err
}

func (p Pending) keys(ctx context.Context) ([]string, error) {
	l, err := p.KV.ListKeys(ctx)
	if errors.Is(err, jetstream.ErrNoKeysFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list waiting decisions: %w", err)
	}
	defer l.Stop()
	var keys []string
	for k := range l.Keys() {
		keys = append(keys, k)
	}
	return keys, nil
}
