package ingest

import "github.com/passline/passline/agent"

// Remove queues outbox deletions (published or dropped decisions) to be
// applied inside the writer's next transaction, so publishing costs no
// extra fsync. When no transaction comes, they get one of their own once
// RemoveLinger has passed or RemoveMax are queued. After the writer
// stopped they are applied at once. A crash before they are applied only
// means the decisions are sent again, and JetStream acks them as duplicates
// (within its duplicate window; the relay is idempotent beyond it).
func (w *Writer) Remove(rs []agent.Removal) {
	if len(rs) == 0 {
		return
	}
	w.rmMu.Lock()
	defer w.rmMu.Unlock()
	if w.stopped.Load() {
		if err := w.DB.RemoveOutbox(rs); err != nil {
			w.Log.Error("remove published decisions", "err", err)
		}
		return
	}
	if len(w.rm) == 0 {
		w.rmSince = w.Now()
	}
	w.rm = append(w.rm, rs...)
}

// takeRemovals returns the queued removals; put them back with
// restoreRemovals if the transaction fails.
func (w *Writer) takeRemovals() []agent.Removal {
	w.rmMu.Lock()
	defer w.rmMu.Unlock()
	rs := w.rm
	w.rm = nil
	return rs
}

// removalsDue reports whether the queued removals should be applied now,
// without waiting for an event's transaction.
func (w *Writer) removalsDue() bool {
	w.rmMu.Lock()
	defer w.rmMu.Unlock()
	return len(w.rm) > 0 && (len(w.rm) >= w.RemoveMax || w.Now().Sub(w.rmSince) >= w.RemoveLinger)
}

// flushDue applies the queued removals if they are due.
func (w *Writer) flushDue() error {
	if !w.removalsDue() {
		return nil
	}
	return w.flushRemovals()
}

func (w *Writer) restoreRemovals(rs []agent.Removal) {
	w.rmMu.Lock()
	defer w.rmMu.Unlock()
	if len(w.rm) == 0 && len(rs) > 0 {
		w.rmSince = w.Now()
	}
	w.rm = append(rs, w.rm...)
}

// flushRemovals applies queued removals in their own transaction.
func (w *Writer) flushRemovals() error {
	rs := w.takeRemovals()
	if err := w.DB.RemoveOutbox(rs); err != nil {
		w.restoreRemovals(rs)
		return err
	}
	return nil
}
