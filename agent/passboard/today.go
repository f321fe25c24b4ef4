package passboard

import (
	"slices"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/kpisync"
	"github.com/passline/passline/wire"
)

// Today is the store's outcome since local midnight: the ready-report rate
// the box computes itself, and the rider wait only the cloud knows.
type Today struct {
	// Orders finished today (closed, or reported ready, and not
	// cancelled), of which ReadyReported had a real kitchen ready signal
	// (a bump or the scale); orders still cooking are not counted yet.
	Orders          int      `json:"orders"`
	ReadyReported   int      `json:"ready_reported"`
	ReadyReportRate *float64 `json:"ready_report_rate"`
	// Hours are the same per local hour of acceptance, oldest first.
	Hours []TodayHour `json:"hours"`
	// Rider is what the cloud knows of riders' waits today; nil when it
	// was never read (no uplink yet). Its RiderWaitS is nil with no
	// arrival data: the board says so rather than 0.
	Rider *kpisync.Today `json:"rider"`
}

// TodayHour is one local hour of Today.
type TodayHour struct {
	Start           time.Time `json:"start"`
	Orders          int       `json:"orders"`
	ReadyReported   int       `json:"ready_reported"`
	ReadyReportRate *float64  `json:"ready_report_rate"`
}

// todayCounter counts orders into hours.
type todayCounter struct {
	midnight time.Time
	hours    map[time.Time]*TodayHour
}

func (c *todayCounter) add(accepted time.Time, status wire.OrderStatus, ready bool) {
	if accepted.Before(c.midnight) || status == wire.StatusCancelled {
		return
	}
	h := accepted.Truncate(time.Hour) // local hours: whole-hour zones assumed, as the board's clock
	th := c.hours[h]
	if th == nil {
		th = &TodayHour{Start: h}
		c.hours[h] = th
	}
	th.Orders++
	if ready {
		th.ReadyReported++
	}
}

// localToday counts today's finished orders: history records accepted
// since midnight (read newest first, stopping at the first closed before
// midnight) and open orders already reported ready.
func localToday(db historyReader, open []*agent.Order, now time.Time) (Today, error) {
	y, m, d := now.Date()
	c := &todayCounter{midnight: time.Date(y, m, d, 0, 0, 0, 0, now.Location()), hours: map[time.Time]*TodayHour{}}
	if err := db.HistoryNewestFirst(func(r agent.HistoryRecord) bool {
		if r.ClosedAt.Before(c.midnight) {
			return false
		}
		c.add(r.AcceptedAt, r.Status, !r.ReadyAt.IsZero())
		return true
	}); err != nil {
		return Today{}, err
	}
	for _, o := range open {
		if o.Open() && agent.Reached(o.Status, wire.StatusDone) {
			c.add(o.AcceptedAt, o.Status, true)
		}
	}
	t := Today{Hours: []TodayHour{}}
	for _, h := range c.hours {
		h.ReadyReportRate = rate(h.ReadyReported, h.Orders)
		t.Hours = append(t.Hours, *h)
		t.Orders += h.Orders
		t.ReadyReported += h.ReadyReported
	}
	sortHours(t.Hours)
	t.ReadyReportRate = rate(t.ReadyReported, t.Orders)
	return t, nil
}

func sortHours(hs []TodayHour) {
	slices.SortFunc(hs, func(a, b TodayHour) int { return a.Start.Compare(b.Start) })
}

// historyReader is what localToday reads of the state db.
type historyReader interface {
	HistoryNewestFirst(fn func(agent.HistoryRecord) bool) error
}

func rate(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	r := float64(n) / float64(d)
	return &r
}
