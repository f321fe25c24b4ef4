package predict

// running is a mean that forgets: it is the plain mean for the first Cap
// observations, then an exponentially weighted one with weight 1/Cap.
type running struct {
	Mean float64 `json:"m"`
	N    float64 `json:"n"`
}

func (r *running) add(y, limit float64) {
	if r.N < limit {
		r.N++
	}
	r.Mean += (y - r.Mean) / r.N
}

// Encoding limits. Shrinkage pulls a SKU or station seen a few times toward
// the store's mean; the caps bound memory against hostile or broken input.
const (
	encShrink   = 8    // pseudo-observations at the store mean
	encMemory   = 400  // orders a SKU's effort remembers
	maxSKUs     = 4096 // SKUs tracked per store; later ones count as unknown
	maxStations = 64
)

// encodings learns per-SKU and per-station effort as the shrunken mean of
// log prep time of the orders that contain them, relative to the store's
// mean. They are inputs to the regression, which weighs them.
type encodings struct {
	Store    running             `json:"store"`
	SKU      map[string]*running `json:"sku"`
	Stations map[string]*running `json:"station"`
}

func newEncodings() encodings {
	return encodings{SKU: map[string]*running{}, Stations: map[string]*running{}}
}

func (e *encodings) effort(r *running) float64 {
	if r == nil || e.Store.N == 0 {
		return 0
	}
	return r.N / (r.N + encShrink) * (r.Mean - e.Store.Mean)
}

// skuEffort returns the largest effort among the order's SKUs (the longest
// item decides when the bag is complete) and the quantity-weighted mean.
func (e *encodings) skuEffort(skus []SKUQty) (maxEffort, meanEffort float64) {
	if len(skus) == 0 {
		return 0, 0
	}
	total, n := 0.0, 0.0
	for i, s := range skus {
		v := e.effort(e.SKU[s.SKU])
		if i == 0 || v > maxEffort {
			maxEffort = v
		}
		q := float64(max(s.Qty, 1))
		total += v * q
		n += q
	}
	return maxEffort, total / n
}

func (e *encodings) stationEffort(station string) float64 {
	if station == "" {
		return 0
	}
	return e.effort(e.Stations[station])
}

// learn records a completed order with log prep time y.
func (e *encodings) learn(f *Features, y float64) {
	e.Store.add(y, encMemory*10)
	for _, s := range f.SKUs {
		r := e.SKU[s.SKU]
		if r == nil {
			if len(e.SKU) >= maxSKUs || s.SKU == "" {
				continue
			}
			r = &running{}
			e.SKU[s.SKU] = r
		}
		r.add(y, encMemory)
	}
	if f.Station == "" {
		return
	}
	r := e.Stations[f.Station]
	if r == nil {
		if len(e.Stations) >= maxStations {
			return
		}
		r = &running{}
		e.Stations[f.Station] = r
	}
	r.add(y, encMemory*4)
}
