package predict

import (
	"github.com/passline/passline/history"

	"math"
	"time"
)

// SKUQty is one line of an order: a SKU and how many of it (the history
// CSV's type, so a history row's lines are the model's).
type SKUQty = history.SKUQty

// Features is what a kitchen can see about an order when it is accepted.
// Everything here must be known at accept time: the live agent and the
// history replay build it the same way, so the model never sees the future.
type Features struct {
	Items    int      // number of items (sum of quantities); 0 means unknown
	Distinct int      // number of different SKUs; 0 means unknown
	SKUs     []SKUQty // the order's lines; may be empty
	Station  string   // station of the order's longest item; may be empty
	// Kitchen load when the order was accepted: orders accepted before it
	// and not yet ready, their items, and how many of them share Station.
	OpenOrders  int
	OpenItems   int
	StationOpen int
	At          time.Time // accepted at, in the store's local time
	Value       float64   // order value (subtotal); 0 means unknown
}

// itemCount is the order's item count: Items, else the SKU quantities,
// and at least 1.
func itemCount(f *Features) int {
	items := f.Items
	if items <= 0 {
		items = 0
		for _, s := range f.SKUs {
			items += s.Qty
		}
	}
	return max(items, 1)
}

// dims is the length of the regression's feature vector.
const dims = 16

// vector builds the regression inputs for f. Target encodings (SKU and
// station effort) come from enc, as learned so far.
func (m *Model) vector(f *Features, x *[dims]float64) {
	items := itemCount(f)
	distinct := f.Distinct
	if distinct <= 0 {
		distinct = max(len(f.SKUs), 1)
	}
	skuMax, skuMean := m.enc.skuEffort(f.SKUs)
	h := float64(f.At.Hour()) + float64(f.At.Minute())/60
	w := 0.0
	if d := f.At.Weekday(); d == time.Saturday || d == time.Sunday {
		w = 1
	}
	v, missing := logValue(f)
	*x = [dims]float64{
		1,
		math.Log1p(float64(items)),
		math.Log1p(float64(distinct)),
		skuMax,
		skuMean,
		m.enc.stationEffort(f.Station),
		math.Log1p(float64(f.OpenOrders)),
		math.Log1p(float64(f.OpenItems)),
		math.Log1p(float64(f.StationOpen)),
		math.Sin(2 * math.Pi * h / 24),
		math.Cos(2 * math.Pi * h / 24),
		math.Sin(4 * math.Pi * h / 24),
		math.Cos(4 * math.Pi * h / 24),
		w,
		v,
		missing,
	}
}

// logValue is log(1+value) and a flag for an unknown value.
func logValue(f *Features) (v, missing float64) {
	if f.Value > 0 {
		return math.Log1p(f.Value), 0
	}
	return 0, 1
}
