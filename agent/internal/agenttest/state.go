package agenttest

import (
	"testing"

	"github.com/passline/passline/agent/bolt"
	"github.com/passline/passline/wire"
)

// CheckInvariants reopens the state db at path, whose agent has closed it,
// and fails tb unless its invariants hold (bolt.DB.CheckInvariants).
func CheckInvariants(tb testing.TB, path string) {
	tb.Helper()
	db, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		tb.Fatalf("reopen state db: %v", err)
	}
	defer db.Close()
	if err := db.CheckInvariants(); err != nil {
		tb.Errorf("state db invariants: %v", err)
	}
}

// Readies counts the ready decisions in ds per order.
func Readies(ds []wire.Decision) map[string]int {
	n := map[string]int{}
	for _, d := range ds {
		if d.Kind == wire.KindReady {
			n[d.OrderID]++
		}
	}
	return n
}
