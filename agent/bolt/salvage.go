package bolt

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/wire"
)

// Check opens the state db read-only with every check Open makes (header,
// every page read) plus CheckInvariants, and returns its counters. It
// fails with ErrLocked while the agent runs.
func Check(path string) (Stats, error) {
	if err := checkFile(path); err != nil {
		return Stats{}, err
	}
	if _, err := os.Stat(path); err != nil {
		return Stats{}, fmt.Errorf("state db %s: %w", path, err)
	}
	d, err := open(path, Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		return Stats{}, err
	}
	defer d.Close()
	if err := guard(d.CheckInvariants); err != nil {
		return Stats{}, damaged(path, fmt.Errorf("%w: %v", ErrDamaged, err))
	}
	return d.Stats()
}

// SalvageReport says what Salvage copied.
type SalvageReport struct {
	// Aside is where the damaged file now is.
	Aside string
	// Copied counts the records copied into the fresh file, by kind:
	// orders, outbox, models, history, seen (event ids).
	Copied map[string]int
	// Partial names the kinds read only in part (a damaged page stopped
	// the read) or not at all, with the reason.
	Partial map[string]string
}

// Salvage moves the damaged state db at path aside (path.damaged-TIME),
// reads what it can from it and writes that into a fresh file at path:
// open orders, the outbox in its order, the models, history and the
// applied event ids. Rejects, counters of past drops and the bump-bar
// state are not copied. The agent must be stopped.
func Salvage(path string, opts Options) (SalvageReport, error) {
	rep := SalvageReport{Copied: map[string]int{}, Partial: map[string]string{}}
	if err := lockedByOther(path); err != nil {
		return rep, err
	}
	rep.Aside = path + ".damaged-" + time.Now().UTC().Format("20060102T150405Z")
	if err := os.Rename(path, rep.Aside); err != nil {
		return rep, fmt.Errorf("move the damaged state db aside: %w", err)
	}
	recs := readDamaged(rep.Aside, rep.Partial)
	d, err := open(path, opts)
	if err != nil {
		return rep, fmt.Errorf("create a fresh state db: %w", err)
	}
	defer d.Close()
	if err := d.Update(func(t *Tx) error { return recs.write(t, rep.Copied, rep.Partial) }); err != nil {
		return rep, fmt.Errorf("write the salvaged records to %s: %w", path, err)
	}
	return rep, writeMarker(path)
}

// lockedByOther fails when another process (a running agent) holds path.
func lockedByOther(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("state db %s: %w", path, err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		return fmt.Errorf("state db %s: %w: stop the agent first", path, ErrLocked)
	}
	return syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
}

// records are the raw key/value pairs read from a damaged file, by bucket.
type records map[string][][2][]byte

// salvaged are the buckets Salvage copies, by the kind it reports.
var salvaged = map[string][]byte{"orders": bucketOrders, "outbox": bucketOutbox, "models": BucketModel,
	"history": bucketHistory, "seen": bucketSeenLog}

// readDamaged reads every salvaged bucket it can from a padded copy of the
// damaged file (so a truncated file reads as zero pages instead of
// faulting); a bucket a damaged page cuts short is noted in partial.
func readDamaged(path string, partial map[string]string) records {
	recs := records{}
	tmp, err := paddedCopy(path)
	if err != nil {
		for kind := range salvaged {
			partial[kind] = err.Error()
		}
		return recs
	}
	defer os.Remove(tmp)
	var db *bolt.DB
	if err := guard(func() (err error) {
		db, err = bolt.Open(tmp, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		return err
	}); err != nil {
		for kind := range salvaged {
			partial[kind] = err.Error()
		}
		return recs
	}
	defer db.Close()
	for kind, name := range salvaged {
		if err := guard(func() error {
			return readBucket(db, name, func(k, v []byte) { recs[kind] = append(recs[kind], [2][]byte{k, v}) })
		}); err != nil {
			partial[kind] = err.Error()
		}
	}
	return recs
}

// readBucket calls fn with a copy of every pair of a top-level bucket, in
// key order, until a damaged page panics (guard recovers it).
func readBucket(db *bolt.DB, name []byte, fn func(k, v []byte)) error {
	return db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(name)
		if b == nil {
			return errors.New("bucket not found")
		}
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v != nil {
				fn(append([]byte(nil), k...), append([]byte(nil), v...))
			}
		}
		return nil
	})
}

// paddedCopy copies the file to path.read, extended with zeros to the size
// its best meta page claims.
func paddedCopy(path string) (string, error) {
	src, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer src.Close()
	m, err := bestMeta(src)
	if err != nil {
		return "", fmt.Errorf("no readable meta page: %w", err)
	}
	tmp := path + ".read"
	dst, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(dst, src)
	if st, serr := dst.Stat(); err == nil && serr == nil && st.Size() < int64(m.pgid)*int64(m.pageSize) {
		err = dst.Truncate(int64(m.pgid) * int64(m.pageSize))
	}
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// write stores the records through the typed API, so counters and
// sequences are rebuilt; a record that does not decode is counted as
// partial.
func (r records) write(t *Tx, copied map[string]int, partial map[string]string) error {
	bad := func(kind string, err error) { partial[kind] = "undecodable record: " + err.Error() }
	for _, kv := range r["orders"] {
		var o agent.Order
		if err := json.Unmarshal(kv[1], &o); err != nil || o.ID == "" {
			bad("orders", fmt.Errorf("order %q: %v", kv[0], err))
			continue
		}
		if err := t.PutOrder(&o); err != nil {
			return err
		}
		copied["orders"]++
	}
	for _, kv := range r["outbox"] {
		d, err := wire.DecodeDecision(kv[1])
		if err != nil {
			bad("outbox", err)
			continue
		}
		if ok, err := t.AppendOutbox(d, time.Now()); err != nil {
			return err
		} else if ok {
			copied["outbox"]++
		}
	}
	for _, kv := range r["models"] {
		if err := t.SaveModel(string(kv[0]), kv[1]); err != nil {
			return err
		}
		copied["models"]++
	}
	return r.writeMemory(t, copied, bad)
}

// writeMemory stores history and applied event ids.
func (r records) writeMemory(t *Tx, copied map[string]int, bad func(string, error)) error {
	for _, kv := range r["history"] {
		var h agent.HistoryRecord
		if err := json.Unmarshal(kv[1], &h); err != nil {
			bad("history", err)
			continue
		}
		if err := t.AddHistory(h); err != nil {
			return err
		}
		copied["history"]++
	}
	for _, kv := range r["seen"] { // seen_log: seq -> event id, oldest first
		if err := t.MarkSeen(string(kv[1])); err != nil {
			return err
		}
		copied["seen"]++
	}
	return nil
}
