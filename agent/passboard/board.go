// Package passboard serves the pass board: the kitchen's live view of open
// orders by station, with elapsed time, predicted ready time and its
// confidence band, what each rider has been told, link and outbox health
// and recent rejects. The page is embedded (go:embed) and loads nothing from
// the internet, so it keeps working when the store's uplink is down; it is
// updated over Server-Sent Events.
//
// The page depends only on Source; AgentSource builds boards from the
// agent's state db.
package passboard

import (
	"context"
	"time"
)

// Source produces the current board. Board is called every poll interval
// for every open page, so it must be cheap: short read transactions only.
type Source interface {
	Board(ctx context.Context) (Board, error)
}

// Board is one snapshot of the kitchen, as the page shows it.
type Board struct {
	Store    string    `json:"store"`
	Now      time.Time `json:"now"`
	Stations []Station `json:"stations"`
	Links    []Link    `json:"links"`
	Outbox   Outbox    `json:"outbox"`
	// Devices is nil when the source does not track device health.
	Devices []Device `json:"devices"`
	Rejects []Reject `json:"rejects"`
	// Today is the store's outcome since midnight; nil when the source
	// does not compute it.
	Today *Today `json:"today,omitempty"`
}

// Station is one station's open orders, oldest first.
type Station struct {
	Name   string  `json:"name"`
	Orders []Order `json:"orders"`
}

// Order is one open order on the board.
type Order struct {
	ID         string    `json:"id"`
	ShortCode  string    `json:"short_code,omitempty"`
	Status     string    `json:"status"`
	Items      int       `json:"items"`
	AcceptedAt time.Time `json:"accepted_at"`
	ElapsedS   float64   `json:"elapsed_s"`
	// Prediction is nil when no model is available (or the order is done).
	Prediction *Prediction `json:"prediction,omitempty"`
	// Told is what the order's rider has been told, oldest first.
	Told    []Told `json:"told"`
	TraceID string `json:"trace_id,omitempty"`
	// Marked is the kitchen's flag (a bump bar's mark key): highlighted.
	Marked bool `json:"marked,omitempty"`
}

// Prediction is the model's ready time with an 80 % band.
type Prediction struct {
	ReadyAt time.Time `json:"ready_at"`
	Early   time.Time `json:"early"`   // 10th percentile
	Late    time.Time `json:"late"`    // 90th percentile
	PReady  float64   `json:"p_ready"` // P(ready within the lead time | elapsed)
}

// Told is the last decision of one kind made about an order for its rider.
type Told struct {
	Kind  string     `json:"kind"`
	At    time.Time  `json:"at"`
	ETA   *time.Time `json:"eta,omitempty"`
	Count int        `json:"count"`
	// Queued is true while the decision waits in the outbox: the rider
	// has not been told yet.
	Queued bool `json:"queued,omitempty"`
	// Withdrawn is true for a ready the kitchen recalled: the rider was
	// told it is delayed after all.
	Withdrawn bool `json:"withdrawn,omitempty"`
}

// Link is one connection's state.
type Link struct {
	Name   string `json:"name"`
	Up     bool   `json:"up"`
	Detail string `json:"detail,omitempty"`
}

// Outbox is the store-and-forward queue of decisions.
type Outbox struct {
	Depth      int64   `json:"depth"`
	OldestAgeS float64 `json:"oldest_age_s"`
}

// Device is one kitchen device's last reported health.
type Device struct {
	ID     string    `json:"id"`
	Online bool      `json:"online"`
	Detail string    `json:"detail,omitempty"`
	At     time.Time `json:"at"`
}

// Reject is a refused input, newest first.
type Reject struct {
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
	Detail string    `json:"detail"`
}
