// Package kvwatch follows one key of a JetStream key-value bucket on the
// agent's NATS connection (shared with the uplink, which owns it), for the
// agent's parts that take something live from the cloud: the store config
// (configsync) and the fleet prior (priorsync).
//
// The watch is a JetStream ordered consumer. At start the key's current
// value, if any, is delivered first. A failure (bucket not created yet, no
// responders) reopens the bucket and the watch after Retry, doubling up to
// 30 s while failures repeat, so a cloud that never created the bucket
// costs one log line and one request per half minute. A reconnect opens
// the watch again at once: after a server restart the ordered consumer is
// gone and would be noticed only after missed heartbeats. Either way the
// current value comes again, so a handler skips revisions it has seen.
package kvwatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// MaxRetry bounds the pause between failed watches.
const MaxRetry = 30 * time.Second

// Follower follows Key of Bucket. Set the fields before Run.
type Follower struct {
	// Conn is the agent's NATS connection; the follower never closes it.
	Conn        *nats.Conn
	Bucket, Key string
	// Handle takes each entry of the key, puts and deletes, in revision
	// order, on the follower's goroutine.
	Handle func(ctx context.Context, e jetstream.KeyValueEntry)
	// Every, when set, is called every Retry while the watch is open, on
	// the follower's goroutine (configsync resends an unsent status).
	Every func(ctx context.Context)
	// Retry is the first pause after a failure and Every's period; 1 s
	// when 0.
	Retry time.Duration
	// What names the watch in logs ("config watch").
	What string
	Log  *slog.Logger

	reconnected chan nats.Status
	js          jetstream.JetStream
	cancel      context.CancelFunc
	wg          sync.WaitGroup
}

// Run starts the watch on its own goroutine and returns at once; the
// connection may still be connecting.
func (f *Follower) Run(ctx context.Context) error {
	js, err := jetstream.New(f.Conn)
	if err != nil {
		return fmt.Errorf("jetstream for %s key %s: %w", f.Bucket, f.Key, err)
	}
	if f.Log == nil {
		f.Log = slog.Default()
	}
	f.js = js
	f.reconnected = f.Conn.StatusChanged(nats.CONNECTED)
	ctx, f.cancel = context.WithCancel(ctx)
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		f.loop(ctx)
	}()
	return nil
}

// Close stops the watch and waits for Handle and Every to return; the
// connection stays open for its owner.
func (f *Follower) Close() {
	if f.cancel != nil {
		f.cancel()
	}
	f.wg.Wait()
	if f.reconnected != nil {
		f.Conn.RemoveStatusListener(f.reconnected)
	}
}

func (f *Follower) retry() time.Duration {
	if f.Retry > 0 {
		return f.Retry
	}
	return time.Second
}

var errReconnected = errors.New("nats reconnected")

// loop keeps a watch open until ctx ends.
func (f *Follower) loop(ctx context.Context) {
	wait := f.retry()
	for {
		err := f.watch(ctx)
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, errReconnected) {
			wait = f.retry()
			continue
		}
		f.Log.Warn(f.What+" failed; retrying", "bucket", f.Bucket, "key", f.Key, "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(2*wait, MaxRetry)
	}
}

// watch opens the bucket and follows the key until ctx ends, the watch
// fails or the connection comes back from a reconnect.
func (f *Follower) watch(ctx context.Context) error {
	kv, err := f.js.KeyValue(ctx, f.Bucket)
	if err != nil {
		return fmt.Errorf("open bucket %s: %w", f.Bucket, err)
	}
	kw, err := kv.Watch(ctx, f.Key)
	if err != nil {
		return fmt.Errorf("watch %s key %s: %w", f.Bucket, f.Key, err)
	}
	defer kw.Stop()
	every := time.NewTicker(f.retry())
	defer every.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-kw.Updates():
			if !ok {
				return fmt.Errorf("watch of %s key %s closed", f.Bucket, f.Key)
			}
			if e != nil {
				f.Handle(ctx, e)
			}
		case <-every.C:
			if f.Every != nil {
				f.Every(ctx)
			}
		case <-f.reconnected:
			return errReconnected
		}
	}
}
