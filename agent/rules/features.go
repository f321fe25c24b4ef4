package rules

import (
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/predict"
)

// OrderFeatures is what the model sees of a live order. Hour and weekday
// are taken in the box's local time, as for history records.
func OrderFeatures(o *agent.Order) predict.Features {
	f := predict.Features{
		Station:     o.Station,
		OpenOrders:  o.Load.OpenOrders,
		OpenItems:   o.Load.OpenItems,
		StationOpen: o.Load.StationOrders,
		At:          o.AcceptedAt.Local(),
		Value:       o.Subtotal,
	}
	seen := make(map[string]int, len(o.Items))
	for _, it := range o.Items {
		f.Items += it.Qty
		if i, ok := seen[it.SKU]; ok {
			f.SKUs[i].Qty += it.Qty
			continue
		}
		seen[it.SKU] = len(f.SKUs)
		f.SKUs = append(f.SKUs, predict.SKUQty{SKU: it.SKU, Qty: it.Qty})
	}
	f.Distinct = len(f.SKUs)
	return f
}

// RecordFeatures is what the model sees of a completed order from the
// agent's history, the same as OrderFeatures saw of it when it was live.
func RecordFeatures(r *agent.HistoryRecord) predict.Features {
	f := predict.Features{
		Items: r.Items, Distinct: r.Distinct, Station: r.Station,
		OpenOrders: r.Load.OpenOrders, OpenItems: r.Load.OpenItems, StationOpen: r.Load.StationOrders,
		At: r.AcceptedAt.Local(), Value: r.Subtotal,
	}
	seen := make(map[string]int, len(r.SKUs))
	for _, sku := range r.SKUs { // one entry per unit
		if i, ok := seen[sku]; ok {
			f.SKUs[i].Qty++
			continue
		}
		seen[sku] = len(f.SKUs)
		f.SKUs = append(f.SKUs, predict.SKUQty{SKU: sku, Qty: 1})
	}
	return f
}

// recordPrep is the prep time a history record teaches, or 0 when the
// order was never ready (cancelled, closed unready).
func recordPrep(r *agent.HistoryRecord) time.Duration {
	if r.AcceptedAt.IsZero() || r.ReadyAt.IsZero() {
		return 0
	}
	return r.ReadyAt.Sub(r.AcceptedAt)
}
