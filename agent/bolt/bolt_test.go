package bolt_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/bolt"
	"github.com/passline/passline/wire"
)

var now = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// MustOpen opens a state db in a temp dir; cleanup checks the invariants
// and closes it.
func MustOpen(tb testing.TB, lim bolt.Limits) *bolt.DB {
	tb.Helper()
	db, err := bolt.Open(filepath.Join(tb.TempDir(), "state.db"), bolt.Options{Limits: lim})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := db.CheckInvariants(); err != nil {
			tb.Errorf("invariants: %v", err)
		}
		db.Close()
	})
	return db
}

func decision(order string, kind wire.DecisionKind, seq int, ttl time.Duration) wire.Decision {
	d := wire.Decision{V: 1, ID: fmt.Sprintf("s1.%s.%s.%d", order, kind, seq), Store: "s1", OrderID: order, Kind: kind,
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if kind == wire.KindReady {
		d.EventID = "e"
	}
	return d
}

func appendAll(t *testing.T, db *bolt.DB, at time.Time, ds ...wire.Decision) []bool {
	t.Helper()
	var stored []bool
	err := db.Update(func(tx *bolt.Tx) error {
		for _, d := range ds {
			ok, err := tx.AppendOutbox(d, at)
			if err != nil {
				return err
			}
			stored = append(stored, ok)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func ids(t *testing.T, db *bolt.DB) []string {
	t.Helper()
	es, err := db.PeekOutbox(1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i, e := range es {
		if i > 0 && e.Key <= es[i-1].Key {
			t.Errorf("outbox keys not increasing: %d after %d", e.Key, es[i-1].Key)
		}
		out = append(out, e.Decision.ID)
	}
	return out
}

func TestOutboxOrderAndRemoval(t *testing.T) {
	db := MustOpen(t, bolt.DefaultLimits())
	appendAll(t, db, now, decision("o1", wire.KindETA, 1, time.Hour), decision("o1", wire.KindReady, 2, time.Hour), decision("o2", wire.KindReady, 1, time.Hour))
	es, _ := db.PeekOutbox(2)
	if len(es) != 2 || es[0].Decision.ID != "s1.o1.eta.1" || es[1].Decision.ID != "s1.o1.ready.2" {
		t.Fatalf("peek = %+v", es)
	}
	if err := db.RemoveOutbox([]agent.Removal{{Key: es[0].Key}, {Key: es[1].Key}, {Key: es[1].Key}}); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, db); len(got) != 1 || got[0] != "s1.o2.ready.1" {
		t.Errorf("left %v", got)
	}
	st, _ := db.Stats()
	if st.Outbox != 1 || len(st.Drops) != 0 || !st.OutboxOldest.Equal(now) {
		t.Errorf("stats %+v", st)
	}
}

func TestOutboxFullPolicy(t *testing.T) {
	lim := bolt.DefaultLimits()
	lim.OutboxEntries = 3
	db := MustOpen(t, lim)
	appendAll(t, db, now,
		decision("o1", wire.KindReadySoon, 1, time.Hour),
		decision("o1", wire.KindETA, 2, time.Hour),
		decision("o2", wire.KindReady, 1, time.Hour))
	// Full: the eta (countdown) goes before the older ready_soon.
	appendAll(t, db, now, decision("o3", wire.KindCancelled, 1, time.Hour))
	if got := fmt.Sprint(ids(t, db)); got != "[s1.o1.ready_soon.1 s1.o2.ready.1 s1.o3.cancelled.1]" {
		t.Fatalf("after countdown drop: %s", got)
	}
	// Then the oldest non-critical goes.
	appendAll(t, db, now, decision("o4", wire.KindReady, 1, time.Hour))
	// Only critical entries left: a non-critical newcomer is refused, a critical one stored over the limit.
	stored := appendAll(t, db, now, decision("o5", wire.KindETA, 1, time.Hour), decision("o5", wire.KindReady, 2, time.Hour))
	if stored[0] || !stored[1] {
		t.Errorf("stored = %v, want eta refused, ready kept", stored)
	}
	if got := fmt.Sprint(ids(t, db)); got != "[s1.o2.ready.1 s1.o3.cancelled.1 s1.o4.ready.1 s1.o5.ready.2]" {
		t.Errorf("outbox %s", got)
	}
	st, _ := db.Stats()
	if st.Drops[agent.DropCountdown] != 1 || st.Drops[agent.DropFull] != 2 {
		t.Errorf("drops %v", st.Drops)
	}
}

func TestOutboxDropsExpiredFirstAndBoundsBytes(t *testing.T) {
	lim := bolt.DefaultLimits()
	lim.OutboxEntries, lim.OutboxBytes = 100, 600 // each entry is about 190 bytes
	db := MustOpen(t, lim)
	appendAll(t, db, now,
		decision("o1", wire.KindReadySoon, 1, time.Hour),
		decision("o2", wire.KindDelayed, 1, time.Minute))
	later := now.Add(2 * time.Minute)
	appendAll(t, db, later, decision("o3", wire.KindReady, 1, time.Hour), decision("o4", wire.KindReady, 1, time.Hour))
	st, _ := db.Stats()
	if st.OutboxBytes > lim.OutboxBytes || st.Drops[agent.DropExpired] != 1 {
		t.Errorf("bytes %d of %d, drops %v, outbox %v", st.OutboxBytes, lim.OutboxBytes, st.Drops, ids(t, db))
	}
	for _, id := range ids(t, db) {
		if id == "s1.o2.delayed.1" {
			t.Errorf("expired entry kept while the outbox was full")
		}
	}
}

func TestRejectsBounded(t *testing.T) {
	lim := bolt.DefaultLimits()
	lim.Rejects = 5
	db := MustOpen(t, lim)
	err := db.Update(func(tx *bolt.Tx) error {
		for i := 0; i < 12; i++ {
			raw := make([]byte, agent.MaxRejectRaw+10)
			if err := tx.AddReject(agent.Reject{At: now, Reason: "malformed", Detail: fmt.Sprint(i), Raw: raw}); err != nil {
				return err
			}
		}
		return tx.CountReject(agent.ReasonDuplicate)
	})
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := db.Rejects(100)
	if len(rs) != 5 || rs[0].Detail != "11" || len(rs[0].Raw) != agent.MaxRejectRaw {
		t.Errorf("rejects: %d, newest %q, raw %d", len(rs), rs[0].Detail, len(rs[0].Raw))
	}
	st, _ := db.Stats()
	if st.RejectCounts["malformed"] != 12 || st.RejectCounts[agent.ReasonDuplicate] != 1 || st.Rejects != 5 {
		t.Errorf("stats %+v", st)
	}
}

func TestHistoryAndSeenBounded(t *testing.T) {
	lim := bolt.DefaultLimits()
	lim.History, lim.Seen = 3, 4
	db := MustOpen(t, lim)
	err := db.Update(func(tx *bolt.Tx) error {
		for i := 0; i < 6; i++ {
			id := fmt.Sprintf("o%d", i)
			if err := tx.AddHistory(agent.HistoryRecord{Store: "s1", OrderID: id, AcceptedAt: now}); err != nil {
				return err
			}
			if err := tx.MarkSeen("e" + id); err != nil {
				return err
			}
		}
		return tx.AddHistory(agent.HistoryRecord{Store: "s1", OrderID: "o5"}) // again: ignored
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	_ = db.History(func(r agent.HistoryRecord) error { got = append(got, r.OrderID); return nil })
	if fmt.Sprint(got) != "[o3 o4 o5]" {
		t.Errorf("history %v", got)
	}
	_ = db.View(func(tx *bolt.Tx) error {
		if tx.InHistory("o0") || !tx.InHistory("o4") || tx.Seen("eo1") || !tx.Seen("eo5") {
			t.Error("index or seen not trimmed with the buckets")
		}
		return nil
	})
}

func TestOrdersAndKitchenRoundTrip(t *testing.T) {
	db := MustOpen(t, bolt.DefaultLimits())
	k := agent.NewKitchen("s1")
	k.LastBumped["grill"] = "o1"
	err := db.Update(func(tx *bolt.Tx) error {
		for _, id := range []string{"o1", "o2"} {
			if err := tx.PutOrder(&agent.Order{Store: "s1", ID: id, Status: wire.StatusStarted, TicketSeen: true}); err != nil {
				return err
			}
		}
		if err := tx.PutOrder(&agent.Order{Store: "s1", ID: "o1", Status: wire.StatusDone, TicketSeen: true}); err != nil {
			return err
		}
		if err := tx.DeleteOrder("o2"); err != nil {
			return err
		}
		return tx.PutKitchenState(k)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.LoadKitchen("s1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Orders) != 1 || got.Orders["o1"].Status != wire.StatusDone || got.LastBumped["grill"] != "o1" {
		t.Errorf("kitchen %+v", got)
	}
}

func TestFailedCommitWritesNothing(t *testing.T) {
	fail := errors.New("no space left on device")
	var broken bool
	db, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{BeforeCommit: func() error {
		if broken {
			return fail
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	broken = true
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.AppendOutbox(decision("o1", wire.KindReady, 1, time.Hour), now)
		return err
	})
	if !errors.Is(err, fail) {
		t.Fatalf("err = %v", err)
	}
	if st, _ := db.Stats(); st.Outbox != 0 {
		t.Errorf("failed commit left %d outbox entries", st.Outbox)
	}
	if err := db.CheckInvariants(); err != nil {
		t.Error(err)
	}
}

func TestOpenLockedFailsClearly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	_, err = bolt.Open(path, bolt.Options{Timeout: 100 * time.Millisecond})
	if !errors.Is(err, bolt.ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
}

func TestInvalidDecisionIsDroppedNotFatal(t *testing.T) {
	db := MustOpen(t, bolt.DefaultLimits())
	bad := decision("o1", wire.KindReady, 1, time.Hour)
	bad.EventID = "" // a ready must name its event
	if stored := appendAll(t, db, now, bad, decision("o2", wire.KindReady, 1, time.Hour)); stored[0] || !stored[1] {
		t.Fatalf("stored = %v", stored)
	}
	if st, _ := db.Stats(); st.Drops[agent.DropInvalid] != 1 || st.Outbox != 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestFileGrowsByLittle: the state db is mapped large from the start (no
// remaps), but its file still grows only a little past its data.
func TestFileGrowsByLittle(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	items := make([]wire.Item, 40)
	for i := range items {
		items[i] = wire.Item{SKU: fmt.Sprintf("SKU%03d", i), Qty: 1, Station: "wok"}
	}
	for b := range 6 {
		err := db.Update(func(tx *bolt.Tx) error {
			for i := range 500 {
				if err := tx.PutOrder(&agent.Order{Store: "s1", ID: fmt.Sprintf("o-%d-%d", b, i), Items: items, TicketSeen: true}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	st, err := db.Stats()
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.FileBytes < 4<<20 || fi.Size() > st.FileBytes+2<<20 {
		t.Errorf("data %d bytes, file %d bytes: want the file at most 2 MiB past the data", st.FileBytes, fi.Size())
	}
}
