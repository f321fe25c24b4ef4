package app

import (
	"fmt"
	"net/http"

	"github.com/passline/passline/cloud/web"
)

// pages puts the operations page (/ops/) and the rider page
// (/riders/{rider}/) in front of the API handler. The rider page reads the
// rider's NATS subject on the relay's connection; the ops page counts
// decisions from every store's decision subject and plots the last hours
// (web.Handler.Run, the KPI records). The returned func ends
// open page streams; register it with http.Server.RegisterOnShutdown.
// With auth.key set, every page and its data need a token (pageGuards).
func (m *Main) pages(api http.Handler) (http.Handler, func(), error) {
	log := m.Logger.WithGroup("web")
	tr := &web.StoreTracker{}
	if err := tr.Start(m.nc); err != nil {
		log.Warn("ops page will not show stores", "err", err)
		tr = nil
	}
	h := &web.Handler{Gatherer: m.Registry, Stores: tr, Riders: web.NATSRiders{NC: m.nc}, Next: api, Log: log,
		KPIs: m.kpiStore, SampleEvery: m.Config.Ops.SampleEvery, KPIEvery: m.Config.Ops.KPIEvery, SeriesHours: m.Config.Ops.Hours}
	stop := func() {
		h.Close()
		if tr != nil {
			_ = tr.Close()
		}
	}
	if err := m.pageGuards(h); err != nil {
		stop()
		return nil, nil, fmt.Errorf("page guards: %w", err)
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		h.Run(m.runCtx) // the ops page's plots
	}()
	return h, stop, nil
}
