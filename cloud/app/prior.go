package app

import (
	"context"

	"github.com/passline/passline/cloud/priorfit"
)

// startPriorRefit re-fits the fleet prior from the synced ready decisions
// whenever the published one is older than model.refit_interval
// (cloud/priorfit); off when it is 0.
func (m *Main) startPriorRefit(runCtx context.Context) {
	c := m.Config
	if c.Model.RefitInterval <= 0 {
		return
	}
	r := &priorfit.Refitter{JS: m.js, Config: c.Model, Replicas: c.Stream.Replicas, Log: m.Logger.WithGroup("prior")}
	r.Start(runCtx)
	m.started.PushFunc("prior refit", r.Close)
}
