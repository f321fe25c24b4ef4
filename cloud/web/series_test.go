package web_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/passline/passline/cloud/kpi"
	"github.com/passline/passline/cloud/web"
)

// fleet is a fake web.KPISource: the same records for every hour asked.
type fleet func(hour time.Time) []kpi.Hour

func (f fleet) Fleet(_ context.Context, hour time.Time) ([]kpi.Hour, error) { return f(hour), nil }

func sec(v float64) *float64 { return &v }

// TestSeriesPlotsLiveAndHourly runs the sampler against a registry whose
// delivery latency moves between samples and KPI records for two stores in
// the current hour, and reads /ops/series.json: live points with the
// interval's p99, hourly points per store and fleet-wide.
func TestSeriesPlotsLiveAndHourly(t *testing.T) {
	reg := prometheus.NewRegistry()
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "passline_relay_delivery_latency_seconds", Buckets: []float64{.1, 1, 10}}, []string{"channel"})
	reg.MustRegister(lat)
	now := time.Now().UTC().Truncate(time.Hour)
	src := fleet(func(hour time.Time) []kpi.Hour {
		if !hour.Equal(now) {
			return nil
		}
		return []kpi.Hour{
			// a: 2 orders, 1 reported ready; one rider arrived 120 s before ready
			{Store: "a", Start: now, Orders: map[string]kpi.Contribution{
				"1": {Decisions: 3, Ready: true, Arrived: true, AvoidableWait: sec(120)}, "2": {Decisions: 1}}},
			// b: 1 order, ready, no arrival data
			{Store: "b", Start: now, Orders: map[string]kpi.Contribution{"9": {Decisions: 2, Ready: true}}},
		}
	})
	h := &web.Handler{Gatherer: reg, KPIs: src, SampleEvery: 20 * time.Millisecond, KPIEvery: 20 * time.Millisecond, SeriesHours: 3}
	srv := serve(t, h)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	var s web.Series
	deadline := time.Now().Add(10 * time.Second)
	for {
		lat.WithLabelValues("rider").Observe(0.05) // every sample interval delivers something
		_, body := get(t, srv.URL+"/ops/series.json")
		if err := json.Unmarshal([]byte(body), &s); err != nil {
			t.Fatal(err)
		}
		if len(s.Live.T) >= 3 && s.Live.DeliveryP99S[len(s.Live.T)-1] != nil && len(s.Hours) == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("series %s", body)
		}
		time.Sleep(25 * time.Millisecond)
	}
	if p := *s.Live.DeliveryP99S[len(s.Live.T)-1]; p <= 0 || p > 0.1 {
		t.Errorf("p99 of 50 ms deliveries = %v, want in (0, 0.1]", p)
	}
	if s.Live.DeliveryP99S[0] != nil {
		t.Error("first sample has a p99 but no interval before it")
	}
	if s.Hours[2] != now.Unix() {
		t.Errorf("hours %v, want the last at %d", s.Hours, now.Unix())
	}
	a, b, f := s.Stores["a"], s.Stores["b"], s.Fleet
	if a.ReadyReportRate[2] == nil || *a.ReadyReportRate[2] != 0.5 || a.AvoidableWaitS[2] == nil || *a.AvoidableWaitS[2] != 120 {
		t.Errorf("store a %+v", a)
	}
	if b.AvoidableWaitS[2] != nil || *b.ReadyReportRate[2] != 1 { // no arrival data: unknown, not 0
		t.Errorf("store b %+v", b)
	}
	if f.Orders[2] != 3 || *f.ReadyReportRate[2] != 2.0/3 || *f.AvoidableWaitS[2] != 120 || f.ReadyReportRate[0] != nil {
		t.Errorf("fleet %+v", f)
	}
	if f.DecisionsPerSecond[2] == nil || *f.DecisionsPerSecond[2] <= 0 {
		t.Errorf("fleet decisions/s %v", f.DecisionsPerSecond)
	}
}
