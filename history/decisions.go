package history

import (
	"sort"

	"github.com/passline/passline/wire"
)

// FromDecisions turns the ready decisions agents sync (stream DECISIONS)
// into history rows, sorted by accept time: one row per store and order,
// from its first ready decision (a recall and re-bump sends another; the
// first is when the food was first ready), with prep time from AcceptedAt
// to CreatedAt and the features of wire.OrderFacts. Decisions of other
// kinds, without facts or an accept time, or with a prep time outside
// 0..MaxPrep are skipped and counted.
func FromDecisions(ds []wire.Decision) (rows []Row, skipped int) {
	first := map[string]int{} // store \x00 order -> index in rows
	for _, d := range ds {
		if d.Kind != wire.KindReady {
			continue
		}
		prep := d.CreatedAt.Sub(d.AcceptedAt)
		if d.Order == nil || d.AcceptedAt.IsZero() || prep <= 0 || prep > MaxPrep || d.Validate() != nil {
			skipped++
			continue
		}
		r := Row{Store: d.Store, OrderID: d.OrderID, AcceptedAt: d.AcceptedAt, ReadyAt: d.CreatedAt,
			Items: d.Order.Items, Distinct: d.Order.Distinct, Subtotal: d.Order.Subtotal, Station: d.Order.Station,
			Category: d.Order.Category, City: d.Order.City}
		k := d.Store + "\x00" + d.OrderID
		if i, ok := first[k]; ok {
			if r.ReadyAt.Before(rows[i].ReadyAt) {
				rows[i] = r
			}
			continue
		}
		first[k] = len(rows)
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].AcceptedAt.Before(rows[j].AcceptedAt) })
	return rows, skipped
}
