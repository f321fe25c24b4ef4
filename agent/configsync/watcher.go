// Package configsync keeps the agent on its store's config from the cloud:
// it watches key {store} of KV PASSLINE_CONFIG, validates each new value
// in full (rules compiled), applies it live to the decider, keeps the old
// config when the new one is refused, and reports either outcome under key
// {store} of KV PASSLINE_CONFIG_STATUS, where the cloud API reads it.
//
// The watch (agent/kvwatch) is a JetStream ordered consumer: it survives
// reconnects and server restarts and resumes after the last revision it
// saw. At startup the current value, if any, is delivered first and counts
// like any other.
// Parameters and rules reach the rules engine between two decisions; the
// agent also resets its re-evaluation timer to a new retry_interval.
// Nothing is kept on disk: after a restart the agent starts on its file
// config and reapplies the stored one as soon as NATS is reachable.
package configsync

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/config"
	"github.com/passline/passline/agent/kvwatch"
	"github.com/passline/passline/wire"
)

// Applier takes parameters and rules live, or refuses them and changes
// nothing; *rules.Engine is one.
type Applier interface {
	Reconfigure(params agent.Params, rules []agent.Rule) error
}

// Watcher follows one store's config. Set the fields before Run.
type Watcher struct {
	// Conn is the agent's NATS connection, shared with the uplink, which
	// owns it: the watcher never closes it. Its reconnects restart the
	// watch at once; its async errors (permission violations) are logged
	// by its owner.
	Conn *nats.Conn
	// Base is the agent's file config; a store config is laid over it
	// (config.WithStore), and a deleted key returns the agent to it.
	Base  config.Config
	Apply Applier
	Log   *slog.Logger
	Now   func() time.Time
	// Retry is the pause before reopening the buckets and the watch after a
	// failure (bucket not created yet, no responders); 1 s when 0.
	Retry time.Duration
	// OnStatus, when set, is called after each config is applied or
	// refused, with the new status (tests and benchmarks wait on it).
	OnStatus func(wire.ConfigStatus)

	follow   kvwatch.Follower
	js       jetstream.JetStream
	statusKV jetstream.KeyValue

	mu     sync.Mutex
	cur    config.Config
	st     wire.ConfigStatus
	unsent bool // st not yet written to the status bucket
}

// New returns a watcher for base.Store's config over nc that applies to
// apply.
func New(nc *nats.Conn, base config.Config, apply Applier) *Watcher {
	return &Watcher{Conn: nc, Base: base, Apply: apply, Log: slog.Default(), Now: time.Now}
}

// Run starts the watch on its own goroutine; it returns at once. The
// connection may still be connecting: the watch retries until it is up.
func (w *Watcher) Run(ctx context.Context) error {
	w.cur = w.Base
	w.st = wire.ConfigStatus{V: wire.Version, Store: w.Base.Store}
	js, err := jetstream.New(w.Conn)
	if err != nil {
		return fmt.Errorf("jetstream for config of store %s: %w", w.Base.Store, err)
	}
	w.js = js
	w.follow = kvwatch.Follower{Conn: w.Conn, Bucket: wire.BucketConfig, Key: w.Base.Store,
		Handle: func(ctx context.Context, e jetstream.KeyValueEntry) {
			if w.handle(e) {
				w.report(ctx)
			}
		},
		Every: w.report, Retry: w.Retry, What: "config watch", Log: w.Log}
	return w.follow.Run(ctx)
}

// Close stops the watch; the connection stays open for its owner.
func (w *Watcher) Close() { w.follow.Close() }

// Status is the last applied and refused revision.
func (w *Watcher) Status() wire.ConfigStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.st
}

// Current is the config the agent decides on now.
func (w *Watcher) Current() config.Config {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.cur
}
