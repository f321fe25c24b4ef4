// Package priorsync keeps the agent's prep-time model on the fleet prior
// the cloud publishes for its store category: it watches key {category}
// (or "default") of KV PASSLINE_MODEL_PRIOR, validates each new value in
// full and applies it live to the model; a malformed prior is refused,
// logged and counted, and the model keeps the one it had, as a bad config
// is refused.
//
// The watch (agent/kvwatch) is a JetStream ordered consumer on the agent's
// NATS connection, shared with the uplink (which owns it). At startup the
// current value, if any, is delivered first. A deleted key changes
// nothing: the model keeps its prior. The prior is saved with the model
// in the state db the next time the model learns an order, so a restart
// before NATS is reachable starts from it.
package priorsync

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/agent/kvwatch"
	"github.com/passline/passline/agent/predict"
	"github.com/passline/passline/wire"
)

// Setter takes a fleet prior live, or refuses it and changes nothing;
// *rules.Engine is one.
type Setter interface {
	SetPrior(p *predict.Prior) error
}

// Watcher follows one category's prior. Set the fields before Run.
type Watcher struct {
	// Conn is the agent's NATS connection, owned by the uplink: the
	// watcher never closes it. Its reconnects restart the watch at once.
	Conn *nats.Conn
	// Key is the category whose prior is followed.
	Key string
	Set Setter
	Log *slog.Logger
	// Retry is the pause before reopening the bucket and the watch after a
	// failure (bucket not created yet); 1 s when 0, doubling to 30 s.
	Retry time.Duration
	// OnResult, when set, is called after each prior is applied (err nil)
	// or refused; tests wait on it.
	OnResult func(revision uint64, err error)

	follow kvwatch.Follower

	mu      sync.Mutex
	st      Status
	lastRev uint64
}

// Status is what the watcher has done: the revision of the prior applied
// last, and of the one refused last with why.
type Status struct {
	Category string `json:"category"`
	Applied  uint64 `json:"applied_revision"`
	Refused  uint64 `json:"refused_revision,omitempty"`
	Reason   string `json:"refused_reason,omitempty"`
}

// New returns a watcher that applies the prior of category (the fleet
// default when empty) to set, over nc.
func New(nc *nats.Conn, category string, set Setter) *Watcher {
	if category == "" {
		category = predict.DefaultCategory
	}
	return &Watcher{Conn: nc, Key: category, Set: set, Log: slog.Default(), st: Status{Category: category}}
}

// Run starts the watch on its own goroutine and returns at once; the
// connection may still be connecting.
func (w *Watcher) Run(ctx context.Context) error {
	w.follow = kvwatch.Follower{Conn: w.Conn, Bucket: wire.BucketModelPrior, Key: w.Key,
		Handle: func(_ context.Context, e jetstream.KeyValueEntry) { w.handle(e) },
		Retry:  w.Retry, What: "fleet prior watch", Log: w.Log}
	return w.follow.Run(ctx)
}

// Close stops the watch; the connection stays open for its owner.
func (w *Watcher) Close() { w.follow.Close() }

// Status reports the last applied and refused revisions.
func (w *Watcher) Status() Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.st
}

// handle applies or refuses one watched entry; a revision already seen
// (redelivered after a re-watch) and a deleted key change nothing.
func (w *Watcher) handle(e jetstream.KeyValueEntry) {
	rev := e.Revision()
	w.mu.Lock()
	if rev <= w.lastRev || e.Operation() != jetstream.KeyValuePut {
		w.mu.Unlock()
		return
	}
	w.lastRev = rev
	p, err := predict.ParsePrior(e.Value())
	if err == nil {
		err = w.Set.SetPrior(p)
	}
	if err != nil {
		w.st.Refused, w.st.Reason = rev, err.Error()
		w.Log.Warn("fleet prior refused; the model keeps its prior", "category", w.Key, "revision", rev, "err", err)
	} else {
		w.st.Applied = rev
		w.Log.Info("fleet prior applied", "category", w.Key, "revision", rev, "stores", p.Stores, "orders", p.Orders)
	}
	w.mu.Unlock()
	if w.OnResult != nil {
		w.OnResult(rev, err)
	}
}
