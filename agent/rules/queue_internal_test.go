package rules

import (
	"testing"
	"time"

	"github.com/passline/passline/agent/predict"
)

// TestQueueOrdersSeenOutOfOrder: a restarted agent meets its open orders
// again in any order, so an order accepted earlier can be admitted after
// one accepted later. The later one must count it ahead, and neither may
// count fewer than none ahead when the other leaves: a count of -1 indexed
// the start times at -1, and the panic lost the bump's ready decision
// (make chaos: acknowledged bumps with no ready).
func TestQueueOrdersSeenOutOfOrder(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	f := &predict.Features{Items: 1}
	var q kitchenQueue
	q.admit("late", t0.Add(20*time.Second), t0.Add(30*time.Second), f)
	q.admit("early", t0, t0.Add(40*time.Second), f)
	if got := q.open["late"].ahead; got != 1 {
		t.Fatalf("order accepted later has %d ahead after the earlier one was admitted, want 1", got)
	}
	q.leave("early", t0.Add(3*time.Minute), true)
	if got := q.open["late"].ahead; got != 0 {
		t.Fatalf("%d ahead after the earlier order left, want 0", got)
	}
	q.leave("late", t0.Add(4*time.Minute), true)

	// However the counts were reached, leaving never drives one below 0.
	q.admit("a", t0, t0, f)
	q.admit("b", t0.Add(time.Minute), t0.Add(time.Minute), f)
	q.open["b"].ahead = 0
	q.leave("a", t0.Add(2*time.Minute), true)
	if got := q.open["b"].ahead; got != 0 {
		t.Fatalf("ahead %d, want 0", got)
	}
}
