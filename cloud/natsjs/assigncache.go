package natsjs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/wire"
)

// AssignmentCache is Assignments with every replica keeping the bucket in
// memory through a KV watch, so the common case (the order has a rider)
// costs no round trip. A miss falls through to the bucket, so an
// assignment the watch has not delivered yet is still found. Entries older
// than TTL are dropped, as the bucket drops them.
type AssignmentCache struct {
	Store Assignments
	TTL   time.Duration
	Log   *slog.Logger

	mu     sync.RWMutex
	m      map[string]cached
	wg     sync.WaitGroup
	cancel context.CancelFunc
}

type cached struct {
	a  wire.Assignment
	at time.Time
}

// Start loads the bucket and follows it until Close.
func (c *AssignmentCache) Start(ctx context.Context) error {
	ctx, c.cancel = context.WithCancel(ctx)
	c.m = map[string]cached{}
	ready := make(chan struct{})
	err := watch(ctx, c.Store.KV, &c.wg, ready, func(e jetstream.KeyValueEntry) {
		c.mu.Lock()
		defer c.mu.Unlock()
		if e.Operation() != jetstream.KeyValuePut {
			delete(c.m, e.Key())
			return
		}
		a, err := wire.DecodeAssignment(e.Value())
		if err != nil {
			c.Log.Warn("stored assignment unreadable", "key", e.Key(), "err", err)
			return
		}
		c.m[e.Key()] = cached{a: a, at: e.Created()}
	})
	if err != nil {
		return err
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		c.expire(ctx)
	}()
	return waitReady(ctx, ready, c.Store.KV.Bucket())
}

func (c *AssignmentCache) expire(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			c.mu.Lock()
			for k, v := range c.m {
				if now.Sub(v.at) > c.TTL {
					delete(c.m, k)
				}
			}
			c.mu.Unlock()
		}
	}
}

// Close stops following the bucket.
func (c *AssignmentCache) Close() {
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
}

// Get implements relay.Assignments.
func (c *AssignmentCache) Get(ctx context.Context, store, order string) (wire.Assignment, bool, error) {
	c.mu.RLock()
	v, ok := c.m[orderKey(store, order)]
	c.mu.RUnlock()
	if ok && time.Since(v.at) <= c.TTL {
		return v.a, true, nil
	}
	return c.Store.Get(ctx, store, order)
}

// Put implements relay.Assignments.
func (c *AssignmentCache) Put(ctx context.Context, a wire.Assignment) error {
	return c.Store.Put(ctx, a)
}
