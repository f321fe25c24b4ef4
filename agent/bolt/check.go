package bolt

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// CheckInvariants verifies, in one read transaction: outbox keys strictly
// increasing and below the outbox sequence; every counter equal to its
// bucket's size (and the outbox byte counter to the sum of entry sizes);
// history and its index the same size; no open order also in history. Tests
// call it in cleanup; `passline-agent status` reports a failure.
func (d *DB) CheckInvariants() error {
	return d.View(func(t *Tx) error {
		var errs []error
		bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
		t.checkOutbox(bad)
		for name, counter := range map[string]string{
			string(bucketOrders): cOrders, string(bucketHistory): cHistory, string(bucketHistoryIdx): cHistory,
			string(bucketRejects): cRejects, string(bucketSeen): cSeen, string(bucketSeenLog): cSeen,
		} {
			if n, want := count(t.b([]byte(name))), t.Counter(counter); n != want {
				bad("bucket %s holds %d keys, counter %s says %d", name, n, counter, want)
			}
		}
		_ = t.b(bucketOrders).ForEach(func(k, _ []byte) error {
			if t.InHistory(string(k)) {
				bad("order %s is both open and in history", k)
			}
			return nil
		})
		return errors.Join(errs...)
	})
}

func (t *Tx) checkOutbox(bad func(string, ...any)) {
	var prev uint64
	var n, size int64
	seq := uint64(t.Counter("seq.outbox"))
	_ = t.b(bucketOutbox).ForEach(func(k, v []byte) error {
		key := getU64(k)
		if len(k) != 8 || key <= prev || key > seq {
			bad("outbox key %x after %d is not strictly increasing up to seq %d", k, prev, seq)
		}
		prev = key
		n++
		size += int64(len(v))
		return nil
	})
	if n != t.Counter(cOutbox) || size != t.Counter(cOutboxSize) {
		bad("outbox holds %d entries of %d bytes, counters say %d and %d", n, size, t.Counter(cOutbox), t.Counter(cOutboxSize))
	}
}

func count(b *bolt.Bucket) int64 {
	var n int64
	c := b.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		n++
	}
	return n
}
