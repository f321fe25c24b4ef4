// Package bolt is the agent's durable state in one bbolt file: open orders,
// completed-order history, the decision outbox, rejected payloads, the ids
// of applied events, and metadata (counters, sequences, bump-bar state,
// the prediction model).
//
// Everything one event changes — order, history, outbox, dedupe id — is
// written in one transaction, so after a crash the file holds either all of
// an event's effects or none. fsync stays on; throughput comes from
// committing many events per transaction (see agent/ingest). Counters in
// the meta bucket are kept equal to bucket sizes; CheckInvariants verifies
// that and the other invariants.
package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Bucket names.
var (
	bucketOrders     = []byte("orders")      // order id -> agent.Order JSON
	bucketHistory    = []byte("history")     // seq -> agent.HistoryRecord JSON
	bucketHistoryIdx = []byte("history_idx") // order id -> history seq
	bucketOutbox     = []byte("outbox")      // seq -> wire.Decision JSON
	bucketRejects    = []byte("rejects")     // seq -> agent.Reject JSON
	bucketSeen       = []byte("seen")        // event id -> seen seq
	bucketSeenLog    = []byte("seen_log")    // seen seq -> event id
	bucketMeta       = []byte("meta")        // counters, sequences, kitchen state
	// BucketModel holds the prediction model, key = store id.
	BucketModel = []byte("model")

	allBuckets = [][]byte{bucketOrders, bucketHistory, bucketHistoryIdx, bucketOutbox,
		bucketRejects, bucketSeen, bucketSeenLog, bucketMeta, BucketModel}
)

// ErrLocked is returned by Open when another process holds the state db.
var ErrLocked = errors.New("state db locked by another process")

// Limits bound what the file may hold (bbolt files never shrink).
type Limits struct {
	OutboxEntries int   // decisions waiting for the uplink
	OutboxBytes   int64 // their total size
	History       int   // completed orders kept
	Rejects       int   // rejected payloads kept
	Seen          int   // event ids remembered for de-duplication
}

// DefaultLimits are generous bounds for one store.
func DefaultLimits() Limits {
	return Limits{OutboxEntries: 100_000, OutboxBytes: 64 << 20, History: 50_000, Rejects: 1_000, Seen: 200_000}
}

// Options configure Open.
type Options struct {
	// Timeout is how long Open waits for the file lock; zero means 3 s.
	Timeout time.Duration
	Limits  Limits
	// BeforeCommit, when set, runs before every write transaction commits;
	// an error aborts the transaction. It is the seam tests use to inject a
	// full disk or a write error.
	BeforeCommit func() error
	// ReadOnly opens the file shared and read-only (state check); Update
	// then fails.
	ReadOnly bool
}

// DB is the state database.
type DB struct {
	db   *bolt.DB
	lim  Limits
	hook func() error
	path string
}

// Open opens (creating if needed) the state db at path. If another process
// holds it, Open fails after opts.Timeout with an error wrapping ErrLocked.
// A damaged file fails with an error wrapping ErrDamaged that names the
// file and the recovery step, a missing or empty file the agent has kept
// state in before (its marker path+".id" exists) with one wrapping
// ErrMissing; neither crashes the process.
func Open(path string, opts Options) (*DB, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("create state dir for %s: %w", path, err)
	}
	if err := checkFile(path); err != nil {
		return nil, err
	}
	d, err := open(path, opts)
	if err != nil {
		return nil, err
	}
	if err := writeMarker(path); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// initialMmap is the state db's first mapping: address space only (a
// page counts in memory once it is read, and only pages of the file can
// be). While the file fits, bbolt never remaps it, and a remap is costly:
// it waits for every read transaction, and a write transaction that grows
// the file first copies every key and value it has touched to the heap
// (about 4 MB of allocations filling 1,000 orders into a new file).
const initialMmap = 32 << 20

// growStep is how far past what it needs the file is extended when it
// grows (bbolt's AllocSize, 16 MiB by default). Once the mapping is larger
// than AllocSize bbolt grows the file to what it needs plus AllocSize;
// below it, to the whole mapping. With the 32 MiB first mapping the
// default would make a new state db's file 16 MiB longer than its data
// (sparse, but that is the size ls and backups see); 1 MiB keeps the file
// about as long as before, when it was grown to the doubling mapping.
const growStep = 1 << 20

// open opens the file with bbolt, reads every page, and creates the
// buckets; it does not look at the marker.
func open(path string, opts Options) (*DB, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 3 * time.Second
	}
	if opts.Limits == (Limits{}) {
		opts.Limits = DefaultLimits()
	}
	var db *bolt.DB
	err := guard(func() (err error) {
		db, err = bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.Timeout, ReadOnly: opts.ReadOnly, InitialMmapSize: initialMmap})
		if err == nil {
			db.AllocSize = growStep
		}
		return err
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open state db %s: %w (waited %s)", path, ErrLocked, opts.Timeout)
	}
	if err == nil {
		if err = walk(db); err != nil {
			db.Close()
		}
	}
	if errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("open state db %s: %w", path, err)
	}
	if err != nil {
		if !errors.Is(err, ErrDamaged) {
			err = fmt.Errorf("%w: %v", ErrDamaged, err)
		}
		return nil, damaged(path, err)
	}
	if !opts.ReadOnly {
		if err := createBuckets(db); err != nil {
			db.Close()
			return nil, fmt.Errorf("create buckets in %s: %w", path, err)
		}
	}
	return &DB{db: db, lim: opts.Limits, hook: opts.BeforeCommit, path: path}, nil
}

func createBuckets(db *bolt.DB) error {
	return db.Update(func(tx *bolt.Tx) error {
		for _, b := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
}

// Path is the file's path.
func (d *DB) Path() string { return d.path }

// Close closes the file.
func (d *DB) Close() error { return d.db.Close() }

// Update runs fn in one write transaction and commits it (with fsync) if fn
// returns nil. Nothing fn wrote survives if it returns an error or the
// commit fails.
func (d *DB) Update(fn func(*Tx) error) error {
	return d.db.Update(func(btx *bolt.Tx) error {
		if err := fn(&Tx{tx: btx, lim: d.lim}); err != nil {
			return err
		}
		if d.hook != nil {
			return d.hook()
		}
		return nil
	})
}

// View runs fn in a read transaction. Keep it short.
func (d *DB) View(fn func(*Tx) error) error {
	return d.db.View(func(btx *bolt.Tx) error { return fn(&Tx{tx: btx, lim: d.lim}) })
}

// Tx is one transaction on the state db. Slices it reads are copied or
// decoded before they are returned, so nothing outlives the transaction.
type Tx struct {
	tx  *bolt.Tx
	lim Limits
}

func (t *Tx) b(name []byte) *bolt.Bucket { return t.tx.Bucket(name) }

func u64(n uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, n)
	return b
}

func getU64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// Counter returns a meta counter.
func (t *Tx) Counter(name string) int64 { return int64(getU64(t.b(bucketMeta).Get([]byte(name)))) }

func (t *Tx) add(name string, delta int64) error {
	return t.b(bucketMeta).Put([]byte(name), u64(uint64(t.Counter(name)+delta)))
}

// nextSeq returns the next value of a strictly increasing sequence.
func (t *Tx) nextSeq(name string) (uint64, error) {
	n := uint64(t.Counter(name)) + 1
	return n, t.b(bucketMeta).Put([]byte(name), u64(n))
}

// Counters named in meta.
const (
	cOrders     = "n.orders"
	cHistory    = "n.history"
	cOutbox     = "n.outbox"
	cOutboxSize = "n.outbox_bytes"
	cRejects    = "n.rejects"
	cSeen       = "n.seen"
)
