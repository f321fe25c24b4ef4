package bolt

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/wire"
)

var _ agent.Outbox = (*DB)(nil)

// AppendOutbox adds a decision under the next outbox key (keys strictly
// increase, so the outbox drains in decision order). When the outbox is at
// its entry or byte limit, the oldest expired or eta entries are dropped
// first, then the oldest non-critical ones; a ready or cancelled is never
// dropped: if only critical entries remain, a non-critical newcomer is
// dropped instead and a critical one is stored over the limit. Every drop is
// counted by reason. A decision that fails wire validation is not stored
// either (counted as "invalid"): a bad rule must not wedge the writer. It
// reports whether d was stored.
func (t *Tx) AppendOutbox(d wire.Decision, now time.Time) (bool, error) {
	b, err := d.Marshal()
	if err != nil {
		return false, t.add("drop."+agent.DropInvalid, 1)
	}
	for t.outboxFull(len(b)) {
		dropped, err := t.dropOne(now)
		if err != nil {
			return false, err
		}
		if !dropped {
			if !d.Kind.Critical() {
				return false, t.add("drop."+agent.DropFull, 1)
			}
			break
		}
	}
	seq, err := t.nextSeq("seq.outbox")
	if err != nil {
		return false, err
	}
	if err := t.b(bucketOutbox).Put(u64(seq), b); err != nil {
		return false, err
	}
	if err := t.add(cOutbox, 1); err != nil {
		return false, err
	}
	return true, t.add(cOutboxSize, int64(len(b)))
}

func (t *Tx) outboxFull(size int) bool {
	return t.Counter(cOutbox)+1 > int64(t.lim.OutboxEntries) || t.Counter(cOutboxSize)+int64(size) > t.lim.OutboxBytes
}

// dropOne drops the oldest expired-or-eta entry, else the oldest
// non-critical one. It reports false when only critical entries remain.
func (t *Tx) dropOne(now time.Time) (bool, error) {
	for pass := 0; pass < 2; pass++ {
		c := t.b(bucketOutbox).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			var d wire.Decision
			if err := json.Unmarshal(v, &d); err != nil {
				return false, fmt.Errorf("decode outbox entry %d: %w", getU64(k), err)
			}
			if d.Kind.Critical() {
				continue
			}
			reason := ""
			switch {
			case !now.Before(d.ExpiresAt):
				reason = agent.DropExpired
			case d.Kind == wire.KindETA:
				reason = agent.DropCountdown
			case pass == 1:
				reason = agent.DropFull
			default:
				continue
			}
			return true, t.deleteOutbox(getU64(k), len(v), reason)
		}
	}
	return false, nil
}

func (t *Tx) deleteOutbox(key uint64, size int, reason string) error {
	if err := t.b(bucketOutbox).Delete(u64(key)); err != nil {
		return err
	}
	if err := t.add(cOutbox, -1); err != nil {
		return err
	}
	if err := t.add(cOutboxSize, -int64(size)); err != nil {
		return err
	}
	if reason != "" {
		return t.add("drop."+reason, 1)
	}
	return nil
}

// PeekOutbox returns up to n of the oldest outbox entries, in order.
func (d *DB) PeekOutbox(n int) ([]agent.Entry, error) { return d.PeekOutboxAfter(0, n) }

// PeekOutboxAfter returns up to n outbox entries with keys above after, in order.
func (d *DB) PeekOutboxAfter(after uint64, n int) ([]agent.Entry, error) {
	var out []agent.Entry
	err := d.View(func(t *Tx) error {
		c := t.b(bucketOutbox).Cursor()
		for k, v := c.Seek(u64(after + 1)); k != nil && len(out) < n; k, v = c.Next() {
			var dec wire.Decision
			if err := json.Unmarshal(v, &dec); err != nil {
				return fmt.Errorf("decode outbox entry %d: %w", getU64(k), err)
			}
			out = append(out, agent.Entry{Key: getU64(k), Decision: dec, Size: len(v)})
		}
		return nil
	})
	return out, err
}

// RemoveOutbox deletes entries in one transaction, counting drops by reason.
// A key already gone is skipped.
func (d *DB) RemoveOutbox(rs []agent.Removal) error {
	if len(rs) == 0 {
		return nil
	}
	return d.Update(func(t *Tx) error { return t.RemoveOutbox(rs) })
}

// RemoveOutbox deletes entries inside this transaction (see DB.RemoveOutbox).
func (t *Tx) RemoveOutbox(rs []agent.Removal) error {
	for _, r := range rs {
		v := t.b(bucketOutbox).Get(u64(r.Key))
		if v == nil {
			continue
		}
		if err := t.deleteOutbox(r.Key, len(v), r.Reason); err != nil {
			return err
		}
	}
	return nil
}

// OldestOutbox returns the CreatedAt of the oldest outbox entry, zero if empty.
func (t *Tx) OldestOutbox() time.Time {
	_, v := t.b(bucketOutbox).Cursor().First()
	if v == nil {
		return time.Time{}
	}
	var d wire.Decision
	if json.Unmarshal(v, &d) != nil {
		return time.Time{}
	}
	return d.CreatedAt
}
