package passboard_test

import (
	"context"
	"testing"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/bolt"
	"github.com/passline/passline/agent/kpisync"
	"github.com/passline/passline/agent/passboard"
	"github.com/passline/passline/wire"
)

// TestTodayCountsReadyReportsAndShowsRiderSide: today's finished orders are
// history records accepted since midnight (not cancelled) and open orders
// already bumped; an order still cooking is not counted yet. 10:xx: h1
// ready, h2 closed without a ready, open o1 bumped → 2 of 3; 11:xx: h3
// ready → 1 of 1; total 3 of 4 = 75 %. Yesterday's and the cancelled one
// are left out. The rider side is passed through as the cloud reported it.
func TestTodayCountsReadyReportsAndShowsRiderSide(t *testing.T) {
	db := openDB(t)
	now := time.Date(2026, 12, 4, 11, 30, 0, 0, time.UTC)
	at := func(h, m int) time.Time { return time.Date(2026, 12, 4, h, m, 0, 0, time.UTC) }
	hist := []agent.HistoryRecord{
		{OrderID: "y", Status: wire.StatusPickedUp, AcceptedAt: at(10, 0).Add(-24 * time.Hour), ReadyAt: at(10, 9).Add(-24 * time.Hour), ClosedAt: at(10, 20).Add(-24 * time.Hour)},
		{OrderID: "h1", Status: wire.StatusPickedUp, AcceptedAt: at(10, 0), ReadyAt: at(10, 9), ClosedAt: at(10, 20)},
		{OrderID: "h2", Status: wire.StatusPickedUp, AcceptedAt: at(10, 5), ClosedAt: at(10, 40)},
		{OrderID: "x", Status: wire.StatusCancelled, AcceptedAt: at(10, 10), ClosedAt: at(10, 41)},
		{OrderID: "h3", Status: wire.StatusPickedUp, AcceptedAt: at(11, 0), ReadyAt: at(11, 10), ClosedAt: at(11, 15)},
	}
	open := []*agent.Order{
		{Store: "s1", ID: "o1", Status: wire.StatusDone, TicketSeen: true, AcceptedAt: at(10, 50), Items: []wire.Item{{SKU: "tea", Qty: 1}}},
		{Store: "s1", ID: "o2", Status: wire.StatusStarted, TicketSeen: true, AcceptedAt: at(11, 20), Items: []wire.Item{{SKU: "tea", Qty: 1}}},
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, r := range hist {
			if err := tx.AddHistory(r); err != nil {
				return err
			}
		}
		for _, o := range open {
			if err := tx.PutOrder(o); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	wait := 150.0
	src := &passboard.AgentSource{Store: "s1", DB: db, Now: func() time.Time { return now },
		Rider: func() *kpisync.Today { return &kpisync.Today{RiderWaitS: &wait, RiderWaitN: 4} }}
	b, err := src.Board(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	td := b.Today
	if td == nil || td.Orders != 4 || td.ReadyReported != 3 || td.ReadyReportRate == nil || *td.ReadyReportRate != 0.75 {
		t.Fatalf("today %+v", td)
	}
	if len(td.Hours) != 2 || td.Hours[0].Orders != 3 || td.Hours[0].ReadyReported != 2 || td.Hours[1].Orders != 1 || *td.Hours[1].ReadyReportRate != 1 {
		t.Fatalf("hours %+v", td.Hours)
	}
	if td.Rider == nil || *td.Rider.RiderWaitS != 150 {
		t.Fatalf("rider side %+v", td.Rider)
	}
}
