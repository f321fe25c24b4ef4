package kpi

import (
	"math"
	"sort"
	"time"

	"github.com/passline/passline/wire"
)

// Hour is one store's hour: a contribution per order accepted in it
// (KV wire.BucketKPIHours).
type Hour = wire.KPIHour

// Flags a KPI figure may carry instead of a value.
const (
	// NoArrivalData: no order of the span has a rider arrival (neither the
	// platform nor the rider app reported one), so rider wait and avoidable
	// wait are unknown, not zero.
	NoArrivalData = "no_arrival_data"
	// NoPickupData: no order of the span has both a ready report and a
	// pickup, so the food's wait for the rider is unknown.
	NoPickupData = "no_pickup_data"
	// NoOrders: no order was accepted in the span.
	NoOrders = "no_orders"
)

// KPIs are the readiness outcomes of a span (an hour, or a range of
// hours) of one store, or of many stores summed. A nil figure is unknown;
// Flags say why.
type KPIs struct {
	Store string    `json:"store,omitempty"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	// Orders were accepted in the span and not cancelled; Cancelled were.
	Orders    int `json:"orders"`
	Cancelled int `json:"cancelled"`
	Decisions int `json:"decisions"`
	// ReadyReported orders had a real kitchen ready signal;
	// ReadyReportRate is ReadyReported / Orders.
	ReadyReported   int      `json:"ready_reported"`
	ReadyReportRate *float64 `json:"ready_report_rate"`
	// EarlyReady ready reports came less than a minute after acceptance.
	EarlyReady int `json:"early_ready"`
	// RiderWait is arrival → pickup, AvoidableWait the part of it before
	// the food was ready, FoodWait ready → pickup; in seconds.
	RiderWait     *Stat `json:"rider_wait_s"`
	AvoidableWait *Stat `json:"avoidable_wait_s"`
	FoodWait      *Stat `json:"food_wait_s"`
	// ETAError is predicted − actual ready time of every eta and
	// ready_soon decision of orders reported ready.
	ETAError *ErrorStat `json:"eta_error_s"`
	// ReadySoon are ready_soon decisions of orders reported ready,
	// ReadySoonKept those ready within the promised window (Promised).
	ReadySoon      int      `json:"ready_soon"`
	ReadySoonKept  int      `json:"ready_soon_kept"`
	ReadySoonShare *float64 `json:"ready_soon_kept_share"`
	Flags          []string `json:"flags,omitempty"`
}

// Stat is a mean and maximum over N values.
type Stat struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	Max  float64 `json:"max"`
}

// ErrorStat is the mean absolute error and the bias (mean signed error:
// positive means the food was ready before the prediction).
type ErrorStat struct {
	N    int     `json:"n"`
	MAE  float64 `json:"mae"`
	Bias float64 `json:"bias"`
}

// Summarize sums the contributions of hours into one store's (or the
// fleet's, when store is "") KPIs over [from, to).
func Summarize(store string, from, to time.Time, hours []Hour) KPIs {
	k := KPIs{Store: store, From: from, To: to}
	var rider, avoid, food, errs []float64
	for _, h := range hours {
		for _, c := range sorted(h.Orders) {
			k.Decisions += c.Decisions
			if c.Cancelled {
				k.Cancelled++
				continue
			}
			k.Orders++
			if c.Ready {
				k.ReadyReported++
			}
			if c.Early {
				k.EarlyReady++
			}
			rider = appendKnown(rider, c.RiderWait)
			avoid = appendKnown(avoid, c.AvoidableWait)
			food = appendKnown(food, c.FoodWait)
			errs = append(errs, c.ETAErrors...)
			k.ReadySoon += c.ReadySoon
			k.ReadySoonKept += c.ReadySoonKept
		}
	}
	k.ReadyReportRate = ratio(k.ReadyReported, k.Orders)
	k.ReadySoonShare = ratio(k.ReadySoonKept, k.ReadySoon)
	k.RiderWait, k.AvoidableWait, k.FoodWait = stat(rider), stat(avoid), stat(food)
	k.ETAError = errorStat(errs)
	if k.Orders+k.Cancelled == 0 {
		k.Flags = append(k.Flags, NoOrders)
	}
	if !anyArrival(hours) {
		k.Flags = append(k.Flags, NoArrivalData)
	}
	if k.FoodWait == nil {
		k.Flags = append(k.Flags, NoPickupData)
	}
	return k
}

// PerHour is Summarize of each hour of [from, to) on its own, hours with
// no record included (flagged no_orders).
func PerHour(store string, from, to time.Time, hours []Hour) []KPIs {
	by := map[time.Time][]Hour{}
	for _, h := range hours {
		by[h.Start.UTC()] = append(by[h.Start.UTC()], h)
	}
	var out []KPIs
	for t := from.UTC().Truncate(time.Hour); t.Before(to); t = t.Add(time.Hour) {
		out = append(out, Summarize(store, t, t.Add(time.Hour), by[t]))
	}
	return out
}

// sorted returns the contributions in order id order, so float sums do
// not depend on map order.
func sorted(m map[string]Contribution) []Contribution {
	ids := make([]string, 0, len(m))
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := make([]Contribution, len(ids))
	for i, id := range ids {
		out[i] = m[id]
	}
	return out
}

func anyArrival(hours []Hour) bool {
	for _, h := range hours {
		for _, c := range h.Orders {
			if c.Arrived && !c.Cancelled {
				return true
			}
		}
	}
	return false
}

func appendKnown(xs []float64, v *float64) []float64 {
	if v == nil {
		return xs
	}
	return append(xs, *v)
}

func ratio(n, d int) *float64 {
	if d == 0 {
		return nil
	}
	r := float64(n) / float64(d)
	return &r
}

func stat(xs []float64) *Stat {
	if len(xs) == 0 {
		return nil
	}
	s := &Stat{N: len(xs), Max: math.Inf(-1)}
	for _, x := range xs {
		s.Mean += x
		s.Max = max(s.Max, x)
	}
	s.Mean /= float64(len(xs))
	return s
}

func errorStat(xs []float64) *ErrorStat {
	if len(xs) == 0 {
		return nil
	}
	e := &ErrorStat{N: len(xs)}
	for _, x := range xs {
		e.MAE += math.Abs(x)
		e.Bias += x
	}
	e.MAE /= float64(len(xs))
	e.Bias /= float64(len(xs))
	return e
}
