package configsync

import (
	"context"
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/agent/config"
	"github.com/passline/passline/wire"
)

// handle applies or refuses one watched entry and reports whether the
// status changed. A revision already seen (redelivered after a consumer
// reset) changes nothing.
func (w *Watcher) handle(e jetstream.KeyValueEntry) bool {
	rev := e.Revision()
	w.mu.Lock()
	if rev <= w.st.Revision || rev <= w.st.RefusedRevision {
		w.mu.Unlock()
		return false
	}
	next, err := w.next(e)
	if err == nil {
		err = w.Apply.Reconfigure(next.Params, next.Rules)
	}
	now := w.Now()
	if err != nil {
		w.st.RefusedRevision, w.st.RefusedAt, w.st.Reason = rev, now, err.Error()
		w.Log.Warn("store config refused; deciding on the previous one", "store", w.Base.Store,
			"revision", rev, "running", w.st.Revision, "err", err)
	} else {
		w.cur = next
		w.st.Revision, w.st.AppliedAt = rev, now
		w.st.RefusedRevision, w.st.RefusedAt, w.st.Reason = 0, time.Time{}, ""
		w.Log.Info("store config applied", "store", w.Base.Store, "revision", rev, "rules", len(next.Rules))
	}
	w.unsent = true
	st := w.st
	w.mu.Unlock()
	if w.OnStatus != nil {
		w.OnStatus(st)
	}
	return true
}

// next is the config entry e asks for: the file config with the stored
// one laid over it, or the file config alone when the key was deleted.
func (w *Watcher) next(e jetstream.KeyValueEntry) (config.Config, error) {
	if e.Operation() != jetstream.KeyValuePut {
		return w.Base, nil
	}
	sc, err := wire.DecodeStoreConfig(e.Value())
	if err != nil {
		return w.Base, err
	}
	return w.Base.WithStore(sc)
}

// report writes the status to the status bucket when it has not been
// written yet; a failure is retried on the watch's next tick.
func (w *Watcher) report(ctx context.Context) {
	w.mu.Lock()
	st, unsent := w.st, w.unsent
	w.mu.Unlock()
	if !unsent {
		return
	}
	b, err := json.Marshal(st)
	if err == nil {
		err = w.putStatus(ctx, b)
	}
	if err != nil && ctx.Err() == nil {
		w.Log.Warn("config status not reported; will retry", "store", w.Base.Store, "err", err)
		return
	}
	if err != nil {
		return
	}
	w.mu.Lock()
	if w.st == st {
		w.unsent = false
	}
	w.mu.Unlock()
}

// statusTimeout bounds one status write. It is short because the write
// runs on the watch goroutine: a put lost in an outage must not hold back
// the next config for long; an unsent status is retried every Retry.
const statusTimeout = time.Second

// putStatus runs on the watch goroutine only, which owns statusKV.
func (w *Watcher) putStatus(ctx context.Context, b []byte) error {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	if w.statusKV == nil {
		kv, err := w.js.KeyValue(ctx, wire.BucketConfigStatus)
		if err != nil {
			return err
		}
		w.statusKV = kv
	}
	_, err := w.statusKV.Put(ctx, w.Base.Store, b)
	return err
}
