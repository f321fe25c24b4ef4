package web

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/passline/passline/cloud/kpi"
	"github.com/passline/passline/internal/sse"
)

// Summary is what the operations page shows. Decisions per second and
// stores come from StoreTracker (the whole cluster); the rest from this
// replica's metrics, except the dead-letter queue depth, which is the
// stream's.
type Summary struct {
	Now                time.Time          `json:"now"`
	StoresOnline       int                `json:"stores_online"`
	Stores             []StoreSeen        `json:"stores"`
	DecisionsPerSecond float64            `json:"decisions_per_second"`
	Decisions          map[string]float64 `json:"decisions"` // handled by this replica, by result
	Deliveries         []Delivery         `json:"deliveries"`
	DeadLettered       float64            `json:"dead_lettered"`
	DLQDepth           float64            `json:"dlq_depth"`
	Breakers           []Breaker          `json:"breakers"`
	// DeliveryP99S is the 99th percentile of decision → delivery latency
	// over the process's life, from the histogram's buckets; 0 when empty.
	DeliveryP99S float64 `json:"delivery_p99_s"`
}

// Delivery counts delivery attempts of one channel with one outcome.
type Delivery struct {
	Channel string  `json:"channel"`
	Outcome string  `json:"outcome"`
	Count   float64 `json:"count"`
}

// Breaker is one circuit breaker's state: closed, open or half-open.
type Breaker struct {
	Channel  string `json:"channel"`
	Endpoint string `json:"endpoint"`
	State    string `json:"state"`
}

// Metric names the summary reads; they are the relay's.
const (
	metricDecisions  = "passline_relay_decisions_total"
	metricDeliveries = "passline_relay_deliveries_total"
	metricLatency    = "passline_relay_delivery_latency_seconds"
	metricDead       = "passline_relay_dead_lettered_total"
	metricDLQ        = "passline_relay_dlq_depth"
	metricBreaker    = "passline_cloud_breaker_state"
)

type opsSampler struct {
	gatherer prometheus.Gatherer
	stores   *StoreTracker
}

// Summary gathers the metrics once and builds the page's numbers.
func (o *opsSampler) Summary() (Summary, error) {
	s := Summary{Now: time.Now(), Stores: []StoreSeen{}, Decisions: map[string]float64{}, Deliveries: []Delivery{}, Breakers: []Breaker{}}
	if o.stores != nil {
		s.Stores = o.stores.Stores()
		for _, st := range s.Stores {
			if st.Online {
				s.StoresOnline++
			}
		}
		s.DecisionsPerSecond = o.stores.Rate(10 * time.Second)
	}
	if o.gatherer == nil {
		return s, nil
	}
	fams, err := o.gatherer.Gather()
	if err != nil {
		return s, fmt.Errorf("gather metrics: %w", err)
	}
	for _, f := range fams {
		o.add(&s, f)
	}
	sort.Slice(s.Deliveries, func(i, j int) bool {
		a, b := s.Deliveries[i], s.Deliveries[j]
		return a.Channel < b.Channel || a.Channel == b.Channel && a.Outcome < b.Outcome
	})
	sort.Slice(s.Breakers, func(i, j int) bool {
		return s.Breakers[i].Channel+s.Breakers[i].Endpoint < s.Breakers[j].Channel+s.Breakers[j].Endpoint
	})
	return s, nil
}

func (o *opsSampler) add(s *Summary, f *dto.MetricFamily) {
	for _, m := range f.GetMetric() {
		l := labels(m)
		switch f.GetName() {
		case metricDecisions:
			s.Decisions[l["result"]] += m.GetCounter().GetValue()
		case metricDeliveries:
			s.Deliveries = append(s.Deliveries, Delivery{Channel: l["channel"], Outcome: l["outcome"], Count: m.GetCounter().GetValue()})
		case metricDead:
			s.DeadLettered += m.GetCounter().GetValue()
		case metricDLQ:
			s.DLQDepth += m.GetGauge().GetValue()
		case metricBreaker:
			s.Breakers = append(s.Breakers, Breaker{Channel: l["channel"], Endpoint: l["endpoint"], State: breakerState(m.GetGauge().GetValue())})
		case metricLatency:
			s.DeliveryP99S = math.Max(s.DeliveryP99S, quantile(0.99, m.GetHistogram()))
		}
	}
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func breakerState(v float64) string {
	switch v {
	case 0:
		return "closed"
	case 1:
		return "open"
	case 2:
		return "half-open"
	}
	return fmt.Sprintf("unknown (%v)", v)
}

// quantile estimates the q-quantile of a cumulative histogram by linear
// interpolation inside the bucket that holds it, as PromQL's
// histogram_quantile does.
func quantile(q float64, h *dto.Histogram) float64 {
	total := float64(h.GetSampleCount())
	if total == 0 {
		return 0
	}
	rank, lower, below := q*total, 0.0, 0.0
	for _, b := range h.GetBucket() {
		n, upper := float64(b.GetCumulativeCount()), b.GetUpperBound()
		if n >= rank {
			if n == below {
				return upper
			}
			return lower + (upper-lower)*(rank-below)/(n-below)
		}
		lower, below = upper, n
	}
	return lower // in the +Inf bucket: the largest finite bound
}

func (h *Handler) summary(w http.ResponseWriter, _ *http.Request) {
	s, err := h.ops.Summary()
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(s)
}

// opsEvents sends a summary at once and then every OpsInterval, and the
// series whenever it changed.
func (h *Handler) opsEvents(w http.ResponseWriter, r *http.Request) {
	rc, _ := sse.Start(w) // a client gone shows at the next flush
	t := time.NewTicker(or(h.OpsInterval, 2*time.Second))
	defer t.Stop()
	sent := int64(0) // nothing sampled yet: no series event
	for {
		if err := h.sendSummary(w, rc); err != nil {
			return
		}
		if b, v := h.series.snapshot(); v != sent {
			if _, err := fmt.Fprintf(w, "event: series\ndata: %s\n\n", b); err != nil || rc.Flush() != nil {
				return
			}
			sent = v
		}
		if !h.wait(r.Context(), t.C) {
			return
		}
	}
}

func (h *Handler) sendSummary(w http.ResponseWriter, rc *http.ResponseController) error {
	s, err := h.ops.Summary()
	if err != nil {
		h.log().Warn("ops summary", "err", err)
		_, err = fmt.Fprintf(w, "event: problem\ndata: %q\n\n", err.Error())
	} else {
		b, _ := json.Marshal(s)
		_, err = fmt.Fprintf(w, "event: summary\ndata: %s\n\n", b)
	}
	if err != nil {
		return err
	}
	return rc.Flush()
}

func (h *Handler) seriesJSON(w http.ResponseWriter, _ *http.Request) {
	b, _ := h.series.snapshot()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

// Run samples the ops page's series until ctx ends or the handler is
// closed: the live points every SampleEvery, the hourly KPIs every
// KPIEvery. Without Run the page shows no plots.
func (h *Handler) Run(ctx context.Context) {
	h.once.Do(h.init)
	every, kpiEvery := or(h.SampleEvery, 10*time.Second), or(h.KPIEvery, 30*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	var kpisAt time.Time
	for {
		now := time.Now()
		rate := 0.0
		if h.Stores != nil {
			rate = h.Stores.Rate(every)
		}
		hours := h.SeriesHours
		if hours <= 0 {
			hours = 6
		}
		h.series.sample(now, rate, h.ops.latency(), int(time.Duration(hours)*time.Hour/every))
		if h.KPIs != nil && now.Sub(kpisAt) >= kpiEvery {
			kpisAt = now
			if err := h.readKPIs(ctx, now, hours); err != nil {
				h.log().Warn("ops page kpis", "err", err)
			}
		}
		if !h.wait(ctx, t.C) {
			return
		}
	}
}

// readKPIs reads every store's KPI records of the last hours.
func (h *Handler) readKPIs(ctx context.Context, now time.Time, n int) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	first := now.UTC().Truncate(time.Hour).Add(-time.Duration(n-1) * time.Hour)
	var hours []time.Time
	var records [][]kpi.Hour
	for i := range n {
		start := first.Add(time.Duration(i) * time.Hour)
		hs, err := h.KPIs.Fleet(ctx, start)
		if err != nil {
			return err
		}
		hours, records = append(hours, start), append(records, hs)
	}
	h.series.setHourly(hourlySeries(hours, records, now))
	return nil
}

// latency is the relay's delivery latency histogram per channel.
func (o *opsSampler) latency() map[string]*dto.Histogram {
	out := map[string]*dto.Histogram{}
	if o.gatherer == nil {
		return out
	}
	fams, err := o.gatherer.Gather()
	if err != nil {
		return out
	}
	for _, f := range fams {
		if f.GetName() != metricLatency {
			continue
		}
		for _, m := range f.GetMetric() {
			out[labels(m)["channel"]] = m.GetHistogram()
		}
	}
	return out
}

// wait blocks for c; false when the client left or the handler closed.
func (h *Handler) wait(ctx context.Context, c <-chan time.Time) bool {
	select {
	case <-ctx.Done():
		return false
	case <-h.done:
		return false
	case <-c:
		return true
	}
}
