package app

import (
	"context"
	"time"

	"github.com/passline/passline/cloud/kpi"
	"github.com/passline/passline/cloud/natsjs"
)

// startKPIs creates the KPI buckets and starts the recorder's durable
// consumers on the decision streams and the platform orders bucket
// (cloud/kpi): readiness KPIs per store and hour, served at
// GET /v1/stores/{store}/kpis and plotted on the ops page.
func (m *Main) startKPIs(ctx, runCtx context.Context) error {
	c := m.Config
	b, err := untilReady(ctx, m.Logger, "set up the kpi buckets", func(ctx context.Context) (*natsjs.KPIBuckets, error) {
		return natsjs.SetupKPI(ctx, m.js, c.Stream.Replicas)
	})
	if err != nil {
		return err
	}
	m.kpiStore = natsjs.KPIStore{FactsKV: b.Facts, HoursKV: b.Hours}
	m.kpis = &kpi.Recorder{Store: m.kpiStore}
	metrics := natsjs.NewKPIMetrics(m.Registry)
	m.kpiConsumer = &natsjs.KPIConsumer{JS: m.js, Streams: natsjs.DecisionStreams(c.Stream.Partitions),
		Recorder: m.kpis, Log: m.Logger.WithGroup("kpi"), Metrics: metrics}
	if err := m.kpiConsumer.Start(runCtx); err != nil {
		return err
	}
	m.started.PushFunc("kpi consumer", m.kpiConsumer.Close)
	return nil
}

// storeKPIs is what GET /v1/stores/{store}/kpis answers.
type storeKPIs struct {
	Store string     `json:"store"`
	Total kpi.KPIs   `json:"total"`
	Hours []kpi.KPIs `json:"hours"`
}

// KPIs returns the store's KPIs over [from, to) and per hour.
func (m *Main) KPIs(ctx context.Context, store string, from, to time.Time) (any, error) {
	total, hours, err := m.kpis.Range(ctx, store, from, to)
	return storeKPIs{Store: store, Total: total, Hours: hours}, err
}
