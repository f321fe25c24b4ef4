package agent

import (
	"time"

	"github.com/passline/passline/wire"
)

// Learner learns from completed orders. If the Decider also implements
// Learner, the writer calls Learn inside the write transaction for every
// order that reaches history, so it must be fast and do no I/O. If it also
// implements encoding.BinaryMarshaler, the writer saves the model to the
// state db (bucket "model", key = store) in that same transaction.
type Learner interface {
	Learn(r HistoryRecord)
}

// HistoryRecord is a completed order with the features prediction needs. It
// is what the agent keeps in its history bucket (bounded retention).
type HistoryRecord struct {
	Store       string           `json:"store"`
	OrderID     string           `json:"order_id"`
	Status      wire.OrderStatus `json:"status"` // final status: picked_up, cancelled, or done/packed when closed by age
	Channel     string           `json:"channel,omitempty"`
	AcceptedAt  time.Time        `json:"accepted_at"`
	StartedAt   time.Time        `json:"started_at,omitempty"`
	ReadyAt     time.Time        `json:"ready_at,omitempty"` // bumped (done), else packed; zero if never ready
	PackedAt    time.Time        `json:"packed_at,omitempty"`
	ClosedAt    time.Time        `json:"closed_at"`
	PromisedAt  time.Time        `json:"promised_at,omitempty"`
	Items       int              `json:"items"`
	Distinct    int              `json:"distinct_items"`
	SKUs        []string         `json:"skus,omitempty"` // one entry per unit
	Station     string           `json:"station,omitempty"`
	Load        Load             `json:"load"` // kitchen load at accept
	Hour        int              `json:"hour"` // hour of day at accept, local time of the box
	Weekday     time.Weekday     `json:"weekday"`
	PrepSeconds float64          `json:"prep_s,omitempty"`   // ReadyAt - AcceptedAt; 0 if unknown
	Subtotal    float64          `json:"subtotal,omitempty"` // order value from the ticket; 0 if unknown
}

// NewHistoryRecord makes o's history record, closed at now.
func NewHistoryRecord(o *Order, now time.Time) HistoryRecord {
	r := HistoryRecord{
		Store: o.Store, OrderID: o.ID, Status: o.Status, Channel: o.Channel,
		AcceptedAt: o.AcceptedAt, StartedAt: o.StartedAt, PackedAt: o.PackedAt,
		ClosedAt: now, PromisedAt: o.PromisedAt, Items: o.ItemCount(), Subtotal: o.Subtotal,
		Station: o.Station, Load: o.Load,
		Hour: o.AcceptedAt.Local().Hour(), Weekday: o.AcceptedAt.Local().Weekday(),
	}
	distinct := map[string]bool{}
	for _, it := range o.Items {
		distinct[it.SKU] = true
		for i := 0; i < it.Qty && len(r.SKUs) < MaxHistorySKUs; i++ {
			r.SKUs = append(r.SKUs, it.SKU)
		}
	}
	r.Distinct = len(distinct)
	r.ReadyAt = o.DoneAt
	if r.ReadyAt.IsZero() {
		r.ReadyAt = o.PackedAt
	}
	if !r.ReadyAt.IsZero() && !o.AcceptedAt.IsZero() && r.ReadyAt.After(o.AcceptedAt) {
		r.PrepSeconds = r.ReadyAt.Sub(o.AcceptedAt).Seconds()
	}
	return r
}

// MaxHistorySKUs bounds the SKU list kept per history record.
const MaxHistorySKUs = 64
