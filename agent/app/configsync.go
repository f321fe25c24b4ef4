package app

import (
	"context"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/configsync"
	"github.com/passline/passline/agent/ingest"
	"github.com/passline/passline/agent/kpisync"
	"github.com/passline/passline/agent/priorsync"
)

// startConfigSync follows the store's config in KV PASSLINE_CONFIG and
// applies it live to the decider, when the decider can take one (the
// default rules engine can; a Decider set by a test may not). It shares the
// uplink's NATS connection, so it runs after startUplink and is closed
// before the uplink.
func (m *Main) startConfigSync(ctx context.Context) error {
	apply, ok := m.Decider.(configsync.Applier)
	if !ok {
		return nil
	}
	w := configsync.New(m.Uplink.Conn(), m.Config, retuner{apply, m.Writer})
	w.Log = m.Log.With("component", "configsync")
	m.ConfigSync = w
	m.running.PushFunc("config sync", w.Close)
	return w.Run(ctx)
}

// startPriorSync follows the fleet prior of the store's category in KV
// PASSLINE_MODEL_PRIOR and applies it live to the decider's model, when
// the decider has one (the default rules engine does). Like the config
// watch it shares the uplink's NATS connection.
func (m *Main) startPriorSync(ctx context.Context) error {
	set, ok := m.Decider.(priorsync.Setter)
	if !ok {
		return nil
	}
	w := priorsync.New(m.Uplink.Conn(), m.Config.Category, set)
	w.Log = m.Log.With("component", "priorsync")
	m.PriorSync = w
	m.running.PushFunc("prior sync", w.Close)
	return w.Run(ctx)
}

// startKPISync polls the store's KPI hours of today from the cloud (KV
// PASSLINE_KPI_HOURS, its own keys) for the pass board's rider wait, on
// the uplink's NATS connection.
func (m *Main) startKPISync(ctx context.Context) error {
	if m.Uplink == nil {
		return nil
	}
	m.KPISync = &kpisync.Poller{Conn: m.Uplink.Conn(), Store: m.Config.Store, Every: m.KPIEvery,
		Log: m.Log.With("component", "kpisync")}
	if err := m.KPISync.Run(ctx); err != nil {
		return err
	}
	m.running.PushFunc("kpi sync", m.KPISync.Close)
	return nil
}

// retuner applies a new config to the decider and, once the decider took
// it, the new retry_interval to the writer's re-evaluation timer.
type retuner struct {
	configsync.Applier
	w *ingest.Writer
}

// Reconfigure implements configsync.Applier.
func (r retuner) Reconfigure(params agent.Params, rules []agent.Rule) error {
	if err := r.Applier.Reconfigure(params, rules); err != nil {
		return err
	}
	if r.w != nil {
		r.w.SetTick(params.RetryInterval)
	}
	return nil
}
