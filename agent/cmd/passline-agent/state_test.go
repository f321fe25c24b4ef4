package main_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/bolt"
	"github.com/passline/passline/wire"
)

// fillState writes a state db with open orders, outbox entries, a model,
// history and event ids, enough to span many pages.
func fillState(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now()
	err = db.Update(func(tx *bolt.Tx) error {
		for i := range 400 {
			id := fmt.Sprintf("o%d", i)
			o := &agent.Order{Store: "st", ID: id, Status: wire.StatusStarted, TicketSeen: true, AcceptedAt: now,
				Items: []wire.Item{{SKU: strings.Repeat("burger", 20), Qty: 2, Station: "grill"}}}
			if err := tx.PutOrder(o); err != nil {
				return err
			}
			if err := tx.MarkSeen("t-" + id); err != nil {
				return err
			}
			if err := tx.AddHistory(agent.HistoryRecord{OrderID: "h" + id, PrepSeconds: 300}); err != nil {
				return err
			}
		}
		for i := range 50 {
			d := wire.Decision{V: 1, ID: fmt.Sprintf("st.o%d.eta.1", i), Store: "st", OrderID: fmt.Sprintf("o%d", i),
				Kind: wire.KindETA, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			if _, err := tx.AppendOutbox(d, now); err != nil {
				return err
			}
		}
		return tx.SaveModel("st", bytes.Repeat([]byte("model"), 100))
	})
	if err != nil {
		t.Fatal(err)
	}
}

// agentCmd runs the real binary and returns its exit code and output.
func agentCmd(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	out, err := cmd.CombinedOutput()
	if err != nil && cmd.ProcessState == nil {
		t.Fatalf("%v: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// TestDamagedStateIsReportedAndSalvaged damages a state db in the ways an
// unlucky box does and runs the real binary on it: the agent exits 1 with
// a message naming the file and the recovery step (on the old code a
// truncated file crashed it with "fatal error: fault" and overwritten
// pages with "panic: assertion failed", rc 2, and an empty file started
// with empty state); `state check` reports the damage; `state salvage`
// keeps the damaged file aside, copies what is readable and reports the
// counts; the agent's checks then pass on the fresh file.
func TestDamagedStateIsReportedAndSalvaged(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, path string)
		want   string // in the agent's message
		// salvage: whether `state salvage` applies; minOrders it must copy.
		salvage   bool
		minOrders int
		copied    []string // lines the salvage report must hold
	}{
		// Cut in half, the file loses its newest pages, the root among
		// them: salvage can read no bucket, but still leaves a sound file.
		{"truncated", func(t *testing.T, path string) { truncate(t, path, 0.5) }, "truncated", true, 0, []string{"orders read only in part"}},
		// The orders bucket's root page overwritten: the orders are lost,
		// the outbox, model, history and event ids are read in full.
		{"overwritten pages", overwritePages, "damaged", true, 0,
			[]string{"outbox   50", "models   1", "history  400", "seen     400", "orders read only in part"}},
		{"zero length", func(t *testing.T, path string) { truncate(t, path, 0) }, "empty (0 bytes)", false, 0, nil},
		{"missing", func(t *testing.T, path string) { os.Remove(path) }, "missing", false, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			db := filepath.Join(dir, "state.db")
			fillState(t, db)
			tt.damage(t, db)
			cfg := writeConfig(t, dir, "st", "url: 'tcp://127.0.0.1:1'", "nats://127.0.0.1:1", "127.0.0.1:0")
			code, out := agentCmd(t, "run", "-config", cfg)
			if code != 1 || !strings.Contains(out, db) || !strings.Contains(out, tt.want) ||
				strings.Contains(out, "fatal error") || strings.Contains(out, "panic") {
				t.Fatalf("agent on a %s state db: exit %d, want 1 with a message naming %s and %q:\n%s", tt.name, code, db, tt.want, out)
			}
			if !tt.salvage {
				if !strings.Contains(out, "delete "+db+".id") {
					t.Errorf("no recovery step in:\n%s", out)
				}
				return
			}
			if !strings.Contains(out, "state salvage") {
				t.Errorf("no recovery step in:\n%s", out)
			}
			if code, out := agentCmd(t, "state", "check", "-db", db); code != 1 || !strings.Contains(out, "damaged") {
				t.Errorf("state check on a %s file: exit %d:\n%s", tt.name, code, out)
			}
			code, out = agentCmd(t, "state", "salvage", "-config", cfg)
			if code != 0 {
				t.Fatalf("state salvage: exit %d:\n%s", code, out)
			}
			t.Logf("salvage of a %s file:\n%s", tt.name, out)
			checkSalvaged(t, dir, db, out, tt.minOrders)
			for _, want := range tt.copied {
				if !strings.Contains(out, want) {
					t.Errorf("salvage report lacks %q", want)
				}
			}
		})
	}
}

// checkSalvaged: the damaged file is aside, the fresh one passes `state
// check` and holds at least minOrders orders, as the report says.
func checkSalvaged(t *testing.T, dir, db, report string, minOrders int) {
	t.Helper()
	aside, _ := filepath.Glob(db + ".damaged-*")
	if len(aside) != 1 || !strings.Contains(report, aside[0]) {
		t.Errorf("damaged file kept aside as %v; report:\n%s", aside, report)
	}
	if code, out := agentCmd(t, "state", "check", "-db", db); code != 0 || !strings.Contains(out, "sound") {
		t.Fatalf("state check after salvage: exit %d:\n%s", code, out)
	}
	st, err := bolt.Check(db)
	if err != nil {
		t.Fatal(err)
	}
	if st.OpenOrders < int64(minOrders) || !strings.Contains(report, fmt.Sprintf("orders   %d", st.OpenOrders)) {
		t.Errorf("fresh file has %d orders (want >= %d); report:\n%s", st.OpenOrders, minOrders, report)
	}
}

func truncate(t *testing.T, path string, frac float64) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, int64(float64(st.Size())*frac)); err != nil {
		t.Fatal(err)
	}
}

// overwritePages writes garbage over every page after the two meta pages,
// page headers included, in the first half of the file.
func overwritePages(t *testing.T, path string) {
	t.Helper()
	first, last := bucketRoot(t, path, "orders")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const page = 4096
	for id := first; id <= last; id++ {
		off := id * page
		for i := range page {
			b[off+i] = byte(0xA5 ^ i*7)
		}
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// bucketRoot is the first and last page of bucket name's root page in the
// state db at path. bbolt places buckets on pages in map order, so a
// damage by page position hits other buckets in each run; losing the root
// loses this bucket alone.
func bucketRoot(t *testing.T, path, name string) (first, last int) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true, PreLoadFreelist: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.View(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(name))
		if b == nil || b.Root() == 0 {
			return fmt.Errorf("no bucket %s on a page of its own", name)
		}
		info, err := tx.Page(int(b.Root()))
		if err != nil || info == nil {
			return fmt.Errorf("root page %d: %v", b.Root(), err)
		}
		first, last = int(b.Root()), int(b.Root())+info.OverflowCount
		return nil
	})
	if err != nil {
		t.Fatalf("bucket %s: %v", name, err)
	}
	return first, last
}
