package ingest

import "github.com/passline/passline/agent/bolt"

// Remove queues outbox deletions (published or dropped decisions) to be
// applied inside the writer's next transaction, so publishing costs no
// extra fsync; when idle they are applied within 250 ms. After the writer
// stopped they are applied at once. A crash before they are applied only
// means the decisions are sent again, and JetStream acks them as duplicates.
func (w *Writer) Remove(rs []bolt.Removal) {
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
	w.rm = append(w.rm, rs...)
}

// takeRemovals returns the queued removals; put them back with
// restoreRemovals if the transaction fails.
func (w *Writer) takeRemovals() []bolt.Removal {
	w.rmMu.Lock()
	defer w.rmMu.Unlock()
	rs := w.rm
	w.rm = nil
	return rs
}

func (w *Writer) restoreRemovals(rs []bolt.Removal) {
	w.rmMu.Lock()
	defer w.rmMu.Unlock()
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
