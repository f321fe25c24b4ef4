package modelcmd

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"sort"
	"time"
)

// SparseConfig shapes a sparse marketplace: many stores with few orders
// each, the features a delivery platform has (items, value, time, the
// store's category) and no SKUs or stations.
type SparseConfig struct {
	Seed   uint64
	Stores int       // stores in the marketplace
	Days   int       // length of the history
	Start  time.Time // midnight of the first day, in the marketplace's zone
}

// DefaultSparse is the marketplace the acceptance runs on: 1,700 stores
// over 30 days, about 18 orders a store, most stores under 10.
func DefaultSparse(seed uint64) SparseConfig {
	return SparseConfig{Seed: seed, Stores: 1700, Days: 30, Start: time.Date(2026, 3, 2, 0, 0, 0, 0, time.FixedZone("", 8*3600))}
}

// sparseCategory is a cuisine: its share of stores, its effect on log prep
// time and its typical item price.
type sparseCategory struct {
	name         string
	share        float64
	effect       float64
	price        float64
	itemsPerMore float64 // mean extra items beyond the first
}

var sparseCategories = []sparseCategory{
	{"burger", 0.14, -0.10, 9, 1.2}, {"pizza", 0.12, 0.10, 14, 0.8}, {"chinese", 0.12, 0.00, 10, 1.5},
	{"sushi", 0.07, 0.15, 12, 1.5}, {"indian", 0.08, 0.20, 11, 1.2}, {"bakery", 0.06, -0.40, 4, 1.5},
	{"coffee", 0.07, -0.55, 4, 1.0}, {"salad", 0.06, -0.25, 10, 0.6}, {"thai", 0.08, 0.05, 11, 1.3},
	{"bbq", 0.05, 0.30, 15, 1.0}, {"mexican", 0.09, -0.05, 9, 1.4}, {"dessert", 0.06, -0.35, 6, 1.0},
}

// sparseOrder is one generated order.
type sparseOrder struct {
	store, cat string
	at         time.Time
	prep       float64 // seconds
	items      int
	value      float64
	dish       float64 // how elaborate the dishes are (sd 1): dearer and slower
}

// WriteSparse writes a sparse-marketplace history CSV (store_id,
// order_id, accepted_at, ready_at, items, subtotal, category) for c, in
// accept order; the same seed writes the same bytes.
//
// Log prep time is a base of 11 minutes, plus the category's effect,
// a store effect (sd 0.35), the size of the order, lunch and dinner peaks,
// weekends and the store's recent load, plus noise (sd 0.44) with a long
// right tail (4% take e^Exp(0.6) longer: pre-orders for later, forgotten
// bumps) and a quick left shoulder (12% take e^-Exp(0.7): partly made ahead). Then 3% of
// orders are marked ready within a minute of accept (ready at accept) and
// 1% after more than two hours (pre-orders), as real marketplaces report.
// Store sizes are log-normal: median 8 orders a month, a few hundred for
// the busiest.
func WriteSparse(w io.Writer, c SparseConfig) error {
	rng := rand.New(rand.NewPCG(c.Seed, 0x5ba5))
	var orders []sparseOrder
	for s := 0; s < c.Stores; s++ {
		orders = append(orders, sparseStore(rng, c, s)...)
	}
	sort.SliceStable(orders, func(i, j int) bool { return orders[i].at.Before(orders[j].at) })
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "store_id,order_id,accepted_at,ready_at,items,subtotal,category")
	for i, o := range orders {
		ready := o.at.Add(time.Duration(o.prep * float64(time.Second)))
		fmt.Fprintf(bw, "%s,m%06d,%s,%s,%d,%.2f,%s\n", o.store, i, o.at.Format(time.RFC3339), ready.Format(time.RFC3339), o.items, o.value, o.cat)
	}
	return bw.Flush()
}

func pickCategory(rng *rand.Rand) sparseCategory {
	u := rng.Float64()
	for _, c := range sparseCategories {
		if u -= c.share; u < 0 {
			return c
		}
	}
	return sparseCategories[len(sparseCategories)-1]
}

// sparseStore generates one store's month of orders.
func sparseStore(rng *rand.Rand, c SparseConfig, s int) []sparseOrder {
	cat := pickCategory(rng)
	effect := cat.effect + 0.35*rng.NormFloat64()
	n := min(max(int(math.Exp(math.Log(8)+1.3*rng.NormFloat64())), 1), 900)
	times := make([]time.Time, n)
	for i := range times {
		times[i] = c.Start.Add(time.Duration(rng.IntN(c.Days))*24*time.Hour + time.Duration(orderHour(rng)*float64(time.Hour)))
	}
	sort.Slice(times, func(i, j int) bool { return times[i].Before(times[j]) })
	out := make([]sparseOrder, 0, n)
	for i, at := range times {
		o := sparseOrder{store: fmt.Sprintf("s%04d", s), cat: cat.name, at: at}
		o.items = 1 + poisson(rng, cat.itemsPerMore)
		o.dish = rng.NormFloat64()
		o.value = math.Round(float64(o.items)*cat.price*math.Exp(0.3*o.dish)*100) / 100
		o.prep = sparsePrep(rng, effect, &o, recentLoad(times[:i], at))
		out = append(out, o)
	}
	return out
}

// orderHour draws an hour of day: lunch and dinner peaks over a low day.
func orderHour(rng *rand.Rand) float64 {
	switch u := rng.Float64(); {
	case u < 0.38:
		return 12.3 + 0.9*rng.NormFloat64()
	case u < 0.80:
		return 19 + 1.3*rng.NormFloat64()
	default:
		return 9 + 14*rng.Float64()
	}
}

// recentLoad is how many of the store's earlier orders came in the last
// 20 minutes before at.
func recentLoad(before []time.Time, at time.Time) int {
	n := 0
	for i := len(before) - 1; i >= 0 && at.Sub(before[i]) < 20*time.Minute; i-- {
		n++
	}
	return n
}

func sparsePrep(rng *rand.Rand, effect float64, o *sparseOrder, load int) float64 {
	u := rng.Float64()
	switch {
	case u < 0.03:
		return 5 + 55*rng.Float64() // marked ready at accept
	case u < 0.04:
		return 7200 + 5400*rng.Float64() // a pre-order for later
	}
	h := float64(o.at.Hour()) + float64(o.at.Minute())/60
	peak := math.Exp(-(h-12.5)*(h-12.5)/2) + math.Exp(-(h-19.3)*(h-19.3)/2.5)
	y := math.Log(560) + effect + 0.35*math.Log1p(float64(o.items)) + 0.15*o.dish + 0.2*peak + 0.15*math.Log1p(float64(load))
	if wd := o.at.Weekday(); wd == time.Saturday || wd == time.Sunday {
		y += 0.06
	}
	y += 0.40 * rng.NormFloat64()
	switch v := rng.Float64(); {
	case v < 0.04:
		y += 0.6 * rng.ExpFloat64()
	case v < 0.16:
		y -= 0.7 * rng.ExpFloat64()
	}
	return min(math.Exp(y), 7000)
}

// poisson draws a Poisson count with mean lambda (Knuth; lambda is small).
func poisson(rng *rand.Rand, lambda float64) int {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
