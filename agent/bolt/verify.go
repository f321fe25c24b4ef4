package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"runtime/debug"

	bolt "go.etcd.io/bbolt"
)

// ErrDamaged is wrapped by Open and Check when the state db cannot be read
// safely: a truncated file, overwritten pages, a bad header. bbolt itself
// would crash the process on such a file (a fault reading a page past the
// end of a truncated file cannot be recovered), so Open checks the header
// and size before bbolt maps the file, then reads every page with faults
// turned into panics it recovers.
var ErrDamaged = errors.New("state db damaged")

// ErrMissing is wrapped by Open when the state db is missing or empty but
// its marker file (path + ".id") shows the agent has kept state there
// before: starting over would silently forget dedupe ids, history and the
// model.
var ErrMissing = errors.New("state db missing")

// bbolt's on-disk layout (go.etcd.io/bbolt/internal/common): every page
// starts with a 16-byte header (id uint64, flags uint16, count uint16,
// overflow uint32); pages 0 and 1 hold a meta each after the header.
const (
	pageHeaderSize  = 16
	metaSize        = 64 // magic, version, page size, flags, root (16), freelist, pgid, txid, checksum
	metaChecksumOff = 56
	boltMagic       = 0xED0CDAED
	boltVersion     = 2
	flagBranch      = 0x01
	flagLeaf        = 0x02
	flagFreelist    = 0x10
	noFreelist      = ^uint64(0)
	minPageSize     = 512
	maxPageSize     = 64 << 10
)

// meta is the part of a bbolt meta page the header check uses.
type meta struct {
	pageSize       uint32
	root, freelist uint64
	pgid, txid     uint64
}

// parseMeta decodes and validates the meta at the start of page b.
func parseMeta(b []byte) (meta, error) {
	if len(b) < pageHeaderSize+metaSize {
		return meta{}, errors.New("short meta page")
	}
	m := b[pageHeaderSize : pageHeaderSize+metaSize]
	le := binary.LittleEndian
	if le.Uint32(m[0:]) != boltMagic {
		return meta{}, errors.New("not a bbolt file (bad magic)")
	}
	if v := le.Uint32(m[4:]); v != boltVersion {
		return meta{}, fmt.Errorf("bbolt version %d, want %d", v, boltVersion)
	}
	h := fnv.New64a()
	h.Write(m[:metaChecksumOff])
	if h.Sum64() != le.Uint64(m[metaChecksumOff:]) {
		return meta{}, errors.New("meta checksum mismatch")
	}
	return meta{pageSize: le.Uint32(m[8:]), root: le.Uint64(m[16:]), freelist: le.Uint64(m[32:]),
		pgid: le.Uint64(m[40:]), txid: le.Uint64(m[48:])}, nil
}

// checkHeader validates a non-empty file before bbolt maps it: a valid
// meta page, every page below the high-water mark present in the file
// (a shorter file faults when bbolt reads past its end), and the root and
// freelist pages of that meta of the right type.
func checkHeader(f *os.File, size int64) error {
	m, err := bestMeta(f)
	if err != nil {
		return err
	}
	ps := int64(m.pageSize)
	if need := int64(m.pgid) * ps; size < need {
		return fmt.Errorf("file is %d bytes, its meta needs %d (%d pages of %d): truncated", size, need, m.pgid, ps)
	}
	if m.root < 2 || m.root >= m.pgid {
		return fmt.Errorf("root page %d outside the file's %d pages", m.root, m.pgid)
	}
	if err := checkPage(f, m, m.root, flagBranch|flagLeaf); err != nil {
		return fmt.Errorf("root: %w", err)
	}
	if m.freelist != noFreelist {
		if err := checkPage(f, m, m.freelist, flagFreelist); err != nil {
			return fmt.Errorf("freelist: %w", err)
		}
	}
	return nil
}

// bestMeta is the valid meta with the highest transaction id, as bbolt
// picks it. The first meta gives the page size; if it is damaged, the
// second is looked for at the usual page sizes.
func bestMeta(f *os.File) (meta, error) {
	p0 := make([]byte, pageHeaderSize+metaSize)
	if _, err := f.ReadAt(p0, 0); err != nil {
		return meta{}, fmt.Errorf("read meta page 0: %w", err)
	}
	m0, err0 := parseMeta(p0)
	sizes := []uint32{4096, 8192, 16384, 65536}
	if err0 == nil {
		if m0.pageSize < minPageSize || m0.pageSize > maxPageSize {
			return meta{}, fmt.Errorf("page size %d", m0.pageSize)
		}
		sizes = []uint32{m0.pageSize}
	}
	for _, ps := range sizes {
		p1 := make([]byte, pageHeaderSize+metaSize)
		if _, err := f.ReadAt(p1, int64(ps)); err != nil {
			continue
		}
		m1, err1 := parseMeta(p1)
		if err1 != nil || m1.pageSize != ps {
			continue
		}
		if err0 != nil || m1.txid > m0.txid {
			return m1, nil
		}
		return m0, nil
	}
	if err0 != nil {
		return meta{}, fmt.Errorf("both meta pages damaged: %w", err0)
	}
	return m0, nil
}

// checkPage checks that page id's header carries its own id and one of
// the flags, and that its overflow pages stay inside the file.
func checkPage(f *os.File, m meta, id uint64, flags uint16) error {
	if id < 2 || id >= m.pgid {
		return fmt.Errorf("page %d outside the file's %d pages", id, m.pgid)
	}
	h := make([]byte, pageHeaderSize)
	if _, err := f.ReadAt(h, int64(id)*int64(m.pageSize)); err != nil && err != io.EOF {
		return fmt.Errorf("read page %d: %w", id, err)
	}
	le := binary.LittleEndian
	if got := le.Uint64(h[0:]); got != id {
		return fmt.Errorf("page %d says it is page %d", id, got)
	}
	if le.Uint16(h[8:])&flags == 0 {
		return fmt.Errorf("page %d has flags %#x, want %#x", id, le.Uint16(h[8:]), flags)
	}
	if id+uint64(le.Uint32(h[12:])) >= m.pgid {
		return fmt.Errorf("page %d overflows past the file's %d pages", id, m.pgid)
	}
	return nil
}

// guard runs fn with memory faults turned into panics (a page past the end
// of a mapped file) and recovers any panic, bbolt's "assertion failed" and
// "invalid page type" among them, as an error wrapping ErrDamaged.
func guard(fn func() error) (err error) {
	old := debug.SetPanicOnFault(true)
	defer func() {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrDamaged, r)
		}
	}()
	return fn()
}

// walk reads every key and value of every bucket, nested ones included,
// so a damaged page is found now rather than by the writer later. bbolt's
// own tx.Check runs on a goroutine of its own, where a panic could not be
// recovered.
func walk(db *bolt.DB) error {
	return guard(func() error {
		return db.View(func(tx *bolt.Tx) error {
			return tx.ForEach(func(_ []byte, b *bolt.Bucket) error { return walkBucket(b) })
		})
	})
}

func walkBucket(b *bolt.Bucket) error {
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			if nb := b.Bucket(k); nb != nil {
				return walkBucket(nb)
			}
			return nil
		}
		if len(v) > 0 { // touch both ends: a value past the mapped file faults here
			touched += v[0] ^ v[len(v)-1]
		}
		return nil
	})
}

// touched keeps walkBucket's reads from being optimized away.
var touched byte
