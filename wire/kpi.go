package wire

import "time"

// BucketKPIHours is the KV bucket of readiness KPIs per store and hour,
// written by the cloud (cloud/kpi) and read by the store's agent for its
// pass board: key KPIHourKey(store, hour), value a KPIHour.
const BucketKPIHours = "PASSLINE_KPI_HOURS"

// KPIHourKey is the key of store's hour (truncated to the UTC hour):
// {YYYYMMDDHH}.{store}.
func KPIHourKey(store string, hour time.Time) string {
	return hour.UTC().Format("2006010215") + "." + store
}

// KPIHour is one store's hour: one KPIOrder per order accepted in it,
// keyed by order id. Figures are summed from the orders when read, so a
// record rewritten with the same order's part counts it once.
type KPIHour struct {
	Store  string              `json:"store"`
	Start  time.Time           `json:"start"`
	Orders map[string]KPIOrder `json:"orders"`
}

// KPIOrder is one order's part of its hour's KPIs. Durations are in
// seconds; nil is unknown.
type KPIOrder struct {
	Decisions int  `json:"d,omitempty"`
	Cancelled bool `json:"c,omitempty"`
	Ready     bool `json:"r,omitempty"` // a real kitchen ready signal came
	Early     bool `json:"e,omitempty"` // less than a minute after acceptance
	Arrived   bool `json:"a,omitempty"` // a rider arrival was reported
	// RiderWait is arrival → pickup; AvoidableWait ready − arrival when
	// the rider came first, else 0; FoodWait ready → pickup.
	RiderWait     *float64 `json:"rw,omitempty"`
	AvoidableWait *float64 `json:"aw,omitempty"`
	FoodWait      *float64 `json:"fw,omitempty"`
	// ETAErrors are predicted − actual ready time, in seconds, one per
	// eta or ready_soon decision of an order that was reported ready.
	ETAErrors []float64 `json:"ee,omitempty"`
	// ReadySoon counts ready_soon decisions of an order reported ready,
	// ReadySoonKept those ready within the promised window.
	ReadySoon     int `json:"rs,omitempty"`
	ReadySoonKept int `json:"rk,omitempty"`
}
