package bolt

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/passline/passline/agent"
)

// AddReject keeps r (raw bytes cut to MaxRejectRaw), counts it under
// "reject.{reason}", and deletes the oldest rejects beyond the limit.
func (t *Tx) AddReject(r agent.Reject) error {
	if len(r.Raw) > agent.MaxRejectRaw {
		r.Raw = r.Raw[:agent.MaxRejectRaw]
	}
	seq, err := t.nextSeq("seq.rejects")
	if err != nil {
		return err
	}
	r.Seq = seq
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := t.b(bucketRejects).Put(u64(seq), b); err != nil {
		return err
	}
	if err := t.add("reject."+r.Reason, 1); err != nil {
		return err
	}
	if err := t.add(cRejects, 1); err != nil {
		return err
	}
	return t.trim(bucketRejects, cRejects, t.lim.Rejects, nil)
}

// CountReject counts a refusal that is not kept (a duplicate event).
func (t *Tx) CountReject(reason string) error { return t.add("reject."+reason, 1) }

// trim deletes the oldest keys of a seq-keyed bucket beyond max; also, for
// each deleted value, calls also (to clean an index).
func (t *Tx) trim(name []byte, counter string, max int, also func(v []byte) error) error {
	c := t.b(name).Cursor()
	for n := t.Counter(counter); n > int64(max); n-- {
		k, v := c.First()
		if k == nil {
			return fmt.Errorf("bucket %s: counter %s is %d but bucket is empty", name, counter, n)
		}
		if also != nil {
			if err := also(v); err != nil {
				return err
			}
		}
		if err := c.Delete(); err != nil {
			return err
		}
		if err := t.add(counter, -1); err != nil {
			return err
		}
	}
	return nil
}

// Rejects returns up to n of the newest rejects, newest first.
func (d *DB) Rejects(n int) ([]agent.Reject, error) {
	var out []agent.Reject
	err := d.View(func(t *Tx) error {
		c := t.b(bucketRejects).Cursor()
		for k, v := c.Last(); k != nil && len(out) < n; k, v = c.Prev() {
			var r agent.Reject
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode reject %d: %w", getU64(k), err)
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// AddHistory records a completed order and trims history to its limit.
func (t *Tx) AddHistory(r agent.HistoryRecord) error {
	idx := t.b(bucketHistoryIdx)
	if idx.Get([]byte(r.OrderID)) != nil {
		return nil // already recorded
	}
	seq, err := t.nextSeq("seq.history")
	if err != nil {
		return err
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if err := t.b(bucketHistory).Put(u64(seq), b); err != nil {
		return err
	}
	if err := idx.Put([]byte(r.OrderID), u64(seq)); err != nil {
		return err
	}
	if err := t.add(cHistory, 1); err != nil {
		return err
	}
	return t.trim(bucketHistory, cHistory, t.lim.History, func(v []byte) error {
		var old agent.HistoryRecord
		if err := json.Unmarshal(v, &old); err != nil {
			return err
		}
		return idx.Delete([]byte(old.OrderID))
	})
}

// InHistory reports whether an order is in history.
func (t *Tx) InHistory(id string) bool { return t.b(bucketHistoryIdx).Get([]byte(id)) != nil }

// History calls fn for every history record, oldest first.
func (d *DB) History(fn func(agent.HistoryRecord) error) error {
	return d.View(func(t *Tx) error {
		return t.b(bucketHistory).ForEach(func(_, v []byte) error {
			var r agent.HistoryRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			return fn(r)
		})
	})
}

// HistoryNewestFirst calls fn for history records, newest first, until fn
// returns false or the records run out: "since" questions (today's orders)
// read only what they need.
func (d *DB) HistoryNewestFirst(fn func(agent.HistoryRecord) bool) error {
	return d.View(func(t *Tx) error {
		c := t.b(bucketHistory).Cursor()
		for k, v := c.Last(); k != nil; k, v = c.Prev() {
			var r agent.HistoryRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if !fn(r) {
				return nil
			}
		}
		return nil
	})
}

// Seen reports whether an event id was applied (within the retained window).
func (t *Tx) Seen(id string) bool { return t.b(bucketSeen).Get([]byte(id)) != nil }

// MarkSeen remembers an applied event id, forgetting the oldest beyond the limit.
func (t *Tx) MarkSeen(id string) error {
	if t.Seen(id) {
		return nil
	}
	seq, err := t.nextSeq("seq.seen")
	if err != nil {
		return err
	}
	if err := t.b(bucketSeen).Put([]byte(id), u64(seq)); err != nil {
		return err
	}
	if err := t.b(bucketSeenLog).Put(u64(seq), []byte(id)); err != nil {
		return err
	}
	if err := t.add(cSeen, 1); err != nil {
		return err
	}
	return t.trim(bucketSeenLog, cSeen, t.lim.Seen, func(v []byte) error {
		return t.b(bucketSeen).Delete(v)
	})
}

// Stats are the db's counters, for status and metrics.
type Stats struct {
	OpenOrders   int64            `json:"open_orders"`
	History      int64            `json:"history"`
	Outbox       int64            `json:"outbox_depth"`
	OutboxBytes  int64            `json:"outbox_bytes"`
	OutboxOldest time.Time        `json:"outbox_oldest,omitempty"`
	Rejects      int64            `json:"rejects_kept"`
	Seen         int64            `json:"events_remembered"`
	RejectCounts map[string]int64 `json:"reject_counts"`
	Drops        map[string]int64 `json:"outbox_drops"`
	FileBytes    int64            `json:"file_bytes"`
}

// Stats reads the counters in one short read transaction.
func (d *DB) Stats() (Stats, error) {
	s := Stats{RejectCounts: map[string]int64{}, Drops: map[string]int64{}}
	err := d.View(func(t *Tx) error {
		s.OpenOrders, s.History = t.Counter(cOrders), t.Counter(cHistory)
		s.Outbox, s.OutboxBytes = t.Counter(cOutbox), t.Counter(cOutboxSize)
		s.Rejects, s.Seen = t.Counter(cRejects), t.Counter(cSeen)
		s.OutboxOldest = t.OldestOutbox()
		s.FileBytes = t.tx.Size()
		return t.b(bucketMeta).ForEach(func(k, v []byte) error {
			name := string(k)
			if r, ok := strings.CutPrefix(name, "reject."); ok {
				s.RejectCounts[r] = int64(getU64(v))
			} else if r, ok := strings.CutPrefix(name, "drop."); ok {
				s.Drops[r] = int64(getU64(v))
			}
			return nil
		})
	})
	return s, err
}
