package web

import (
	"context"
	"encoding/json"
	"sort"
	"sync"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/passline/passline/cloud/kpi"
)

// KPISource returns every store's KPI hour records of one hour
// (natsjs.KPIStore.Fleet).
type KPISource interface {
	Fleet(ctx context.Context, hour time.Time) ([]kpi.Hour, error)
}

// Series is what the ops page plots over the last hours. Live points are
// sampled by this replica every SampleEvery since it started (decisions
// per second span the cluster; delivery p99 is this replica's, over each
// sample's interval, null when nothing was delivered in it). Hourly
// points come from the KPI records (cloud/kpi), fleet-wide and per store;
// the current hour is partial.
type Series struct {
	Live   LiveSeries              `json:"live"`
	Hours  []int64                 `json:"hours"` // start of each hour, unix seconds
	Fleet  HourlySeries            `json:"fleet"`
	Stores map[string]HourlySeries `json:"stores"`
}

// LiveSeries are the sampled points: T in unix seconds.
type LiveSeries struct {
	T                  []int64    `json:"t"`
	DecisionsPerSecond []float64  `json:"decisions_per_second"`
	DeliveryP99S       []*float64 `json:"delivery_p99_s"`
}

// HourlySeries is one point per hour of Series.Hours; nil is unknown
// (no orders, or no rider arrival for avoidable wait).
type HourlySeries struct {
	Orders             []int      `json:"orders"`
	DecisionsPerSecond []*float64 `json:"decisions_per_second"`
	AvoidableWaitS     []*float64 `json:"avoidable_wait_s"`
	ReadyReportRate    []*float64 `json:"ready_report_rate"`
}

// seriesKeeper samples and remembers the series.
type seriesKeeper struct {
	mu      sync.Mutex
	live    LiveSeries
	hourly  Series
	version int64
	prev    map[string]*dto.Histogram // delivery latency at the last sample, by channel
}

// sample appends one live point: decisions per second over every (from
// the store tracker) and delivery p99 of what was delivered since the
// last sample; it keeps at most keep points.
func (k *seriesKeeper) sample(now time.Time, rate float64, lat map[string]*dto.Histogram, keep int) {
	var p99 *float64
	if k.prev != nil {
		if d := deltaHistogram(lat, k.prev); d.GetSampleCount() > 0 {
			v := quantile(0.99, d)
			p99 = &v
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.prev = lat
	l := &k.live
	l.T = append(l.T, now.Unix())
	l.DecisionsPerSecond = append(l.DecisionsPerSecond, rate)
	l.DeliveryP99S = append(l.DeliveryP99S, p99)
	if n := len(l.T) - keep; n > 0 {
		l.T, l.DecisionsPerSecond, l.DeliveryP99S = l.T[n:], l.DecisionsPerSecond[n:], l.DeliveryP99S[n:]
	}
	k.version++
}

// setHourly replaces the hourly points.
func (k *seriesKeeper) setHourly(s Series) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.hourly = s
	k.version++
}

// snapshot is the series as JSON and its version.
func (k *seriesKeeper) snapshot() ([]byte, int64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.hourly
	s.Live = k.live
	if s.Stores == nil {
		s.Stores = map[string]HourlySeries{}
	}
	b, _ := json.Marshal(s)
	return b, k.version
}

// deltaHistogram sums, over channels, the latency histogram's buckets
// now minus before: what was delivered in between.
func deltaHistogram(now, before map[string]*dto.Histogram) *dto.Histogram {
	var count uint64
	var bounds []float64
	cum := map[float64]uint64{}
	for ch, h := range now {
		b := before[ch]
		count += h.GetSampleCount() - b.GetSampleCount()
		prev := map[float64]uint64{}
		for _, x := range b.GetBucket() {
			prev[x.GetUpperBound()] = x.GetCumulativeCount()
		}
		for _, x := range h.GetBucket() {
			ub := x.GetUpperBound()
			if _, ok := cum[ub]; !ok {
				bounds = append(bounds, ub)
			}
			cum[ub] += x.GetCumulativeCount() - prev[ub]
		}
	}
	sort.Float64s(bounds)
	out := &dto.Histogram{SampleCount: &count}
	for _, ub := range bounds {
		c := cum[ub]
		out.Bucket = append(out.Bucket, &dto.Bucket{UpperBound: &ub, CumulativeCount: &c})
	}
	return out
}

// hourlySeries builds the hourly points of the hours starting at each of
// hours from the KPI records of every store.
func hourlySeries(hours []time.Time, records [][]kpi.Hour, now time.Time) Series {
	s := Series{Stores: map[string]HourlySeries{}}
	stores := map[string]bool{}
	for _, hs := range records {
		for _, h := range hs {
			stores[h.Store] = true
		}
	}
	for _, h := range hours {
		s.Hours = append(s.Hours, h.Unix())
	}
	s.Fleet = hourly(hours, records, now, func(kpi.Hour) bool { return true })
	for st := range stores {
		s.Stores[st] = hourly(hours, records, now, func(h kpi.Hour) bool { return h.Store == st })
	}
	return s
}

func hourly(hours []time.Time, records [][]kpi.Hour, now time.Time, keep func(kpi.Hour) bool) HourlySeries {
	var out HourlySeries
	for i, start := range hours {
		var hs []kpi.Hour
		for _, h := range records[i] {
			if keep(h) {
				hs = append(hs, h)
			}
		}
		k := kpi.Summarize("", start, start.Add(time.Hour), hs)
		span := min(now.Sub(start), time.Hour).Seconds()
		var dps *float64
		if span > 0 {
			v := float64(k.Decisions) / span
			dps = &v
		}
		var avoid *float64
		if k.AvoidableWait != nil {
			avoid = &k.AvoidableWait.Mean
		}
		out.Orders = append(out.Orders, k.Orders)
		out.DecisionsPerSecond = append(out.DecisionsPerSecond, dps)
		out.AvoidableWaitS = append(out.AvoidableWaitS, avoid)
		out.ReadyReportRate = append(out.ReadyReportRate, k.ReadyReportRate)
	}
	return out
}
