package predict_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/passline/passline/agent/predict"
)

// synth is a kitchen with known parameters: log prep time is linear in
// log(1+items) and log(1+open orders) plus a per-SKU effort, with normal
// noise of sd sigma; a share forgot of orders is forgotten and takes
// forgetX times longer.
type synth struct {
	base, bItems, bLoad float64
	sku                 map[string]float64
	sigma               float64
	forgot, forgetX     float64
	rng                 *rand.Rand
}

func newSynth(seed uint64) *synth {
	return &synth{
		base: math.Log(240), bItems: 0.5, bLoad: 0.25, sigma: 0.25,
		sku: map[string]float64{"salad": -0.3, "burger": 0, "steak": 0.5, "soda": -0.6},
		rng: rand.New(rand.NewPCG(seed, 1)),
	}
}

var skuNames = []string{"salad", "burger", "steak", "soda"}

// features draws an order of 1-4 units of one SKU; open items are drawn
// independently of open orders and have no effect of their own.
func (s *synth) features(at time.Time) predict.Features {
	n := 1 + s.rng.IntN(4)
	sku := skuNames[s.rng.IntN(len(skuNames))]
	open := s.rng.IntN(12)
	return predict.Features{At: at, Items: n, Distinct: 1, SKUs: []predict.SKUQty{{SKU: sku, Qty: n}},
		OpenOrders: open, OpenItems: s.rng.IntN(30)}
}

// mean is the true mean of log prep time for f (without forgetting).
func (s *synth) mean(f *predict.Features) float64 {
	eff := -10.0
	for _, q := range f.SKUs {
		eff = math.Max(eff, s.sku[q.SKU])
	}
	return s.base + s.bItems*math.Log1p(float64(f.Items)) + s.bLoad*math.Log1p(float64(f.OpenOrders)) + eff
}

func (s *synth) prep(f *predict.Features) time.Duration {
	y := s.mean(f) + s.sigma*s.rng.NormFloat64()
	if s.rng.Float64() < s.forgot {
		y += math.Log(s.forgetX)
	}
	return time.Duration(math.Exp(y) * float64(time.Second))
}

func trained(s *synth, n int) *predict.Model {
	m := predict.New()
	at := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		f := s.features(at)
		m.Learn(&f, s.prep(&f))
		at = at.Add(7 * time.Minute)
	}
	return m
}

func TestRecoversKnownParameters(t *testing.T) {
	s := newSynth(1)
	m := trained(s, 5000)
	c := m.Coefficients()
	for name, want := range map[string]float64{"log1p_items": s.bItems, "log1p_open_orders": s.bLoad, "log1p_open_items": 0, "weekend": 0, "hour_sin": 0} {
		if math.Abs(c[name]-want) > 0.05 {
			t.Errorf("coefficient %s = %.3f, true %.3f", name, c[name], want)
		}
	}
	at := time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)
	z90 := 1.2816
	for _, tc := range []struct {
		skus []predict.SKUQty
		open int
	}{
		{[]predict.SKUQty{{SKU: "soda", Qty: 1}}, 0},
		{[]predict.SKUQty{{SKU: "burger", Qty: 2}}, 3},
		{[]predict.SKUQty{{SKU: "steak", Qty: 3}}, 8},
		{[]predict.SKUQty{{SKU: "salad", Qty: 1}}, 11},
	} {
		f := predict.Features{SKUs: tc.skus, OpenOrders: tc.open, OpenItems: 7, At: at}
		for _, q := range tc.skus {
			f.Items += q.Qty
		}
		f.Distinct = len(tc.skus)
		p := m.Predict(&f)
		wantMed := math.Exp(s.mean(&f))
		wantP90 := math.Exp(s.mean(&f) + z90*s.sigma)
		if got := p.Median().Seconds(); math.Abs(got/wantMed-1) > 0.08 {
			t.Errorf("%v open %d: median %.0f s, true %.0f s", tc.skus, tc.open, got, wantMed)
		}
		if got := p.Quantile(0.9, 0).Seconds(); math.Abs(got/wantP90-1) > 0.10 {
			t.Errorf("%v open %d: p90 %.0f s, true %.0f s", tc.skus, tc.open, got, wantP90)
		}
		// 0.08 is the probability an 8% median error moves at this spread.
		if got := p.PReady(0, time.Duration(wantMed*float64(time.Second))); math.Abs(got-0.5) > 0.08 {
			t.Errorf("%v open %d: P(ready by true median) = %.3f, want 0.5", tc.skus, tc.open, got)
		}
	}
}

func TestPReadyMonotoneInD(t *testing.T) {
	s := newSynth(2)
	s.forgot, s.forgetX = 0.05, 3
	m := trained(s, 2000)
	f := s.features(time.Date(2026, 4, 1, 19, 0, 0, 0, time.UTC))
	p := m.Predict(&f)
	for _, e := range []time.Duration{0, time.Minute, 5 * time.Minute, 15 * time.Minute, time.Hour, 10 * time.Hour} {
		prev := -1.0
		for d := time.Duration(0); d <= 40*time.Minute; d += 10 * time.Second {
			pr := p.PReady(e, d)
			if pr < prev-1e-12 || pr < 0 || pr > 1 || math.IsNaN(pr) {
				t.Fatalf("elapsed %s: P(d=%s) = %v after %v", e, d, pr, prev)
			}
			prev = pr
		}
		for _, q := range []float64{0.1, 0.5, 0.85} {
			d := p.Quantile(q, e) - e
			if got := p.PReady(e, d); e < time.Hour && math.Abs(got-q) > 0.02 {
				t.Errorf("elapsed %s: P(ready within the %.2f quantile) = %.3f", e, q, got)
			}
		}
	}
}

// TestPReadyConditional: when some orders are forgotten, an order already
// late is likely one of them, so its chance of being ready in the next 2
// minutes is lower than the unconditional curve says, and lower than a
// fresh order's chance of beating its own median by 2 minutes. The
// model's conditional probability must match what the data does.
func TestPReadyConditional(t *testing.T) {
	s := newSynth(3)
	s.forgot, s.forgetX = 0.15, 2.5
	m := trained(s, 6000)
	f := predict.Features{Items: 2, Distinct: 1, SKUs: []predict.SKUQty{{SKU: "burger", Qty: 2}}, OpenOrders: 4, OpenItems: 8,
		At: time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)}
	p := m.Predict(&f)
	var sample []float64
	for i := 0; i < 40000; i++ {
		sample = append(sample, s.prep(&f).Seconds())
	}
	sort.Float64s(sample)
	late := time.Duration(sample[len(sample)*88/100] * float64(time.Second)) // later than 88% of such orders
	d := 2 * time.Minute
	var open, hit int
	for _, v := range sample {
		if v > late.Seconds() {
			open++
			if v <= (late + d).Seconds() {
				hit++
			}
		}
	}
	observed := float64(hit) / float64(open)
	got := p.PReady(late, d)
	if math.Abs(got-observed) > 0.06 {
		t.Errorf("late order: P(ready in 2 min | %s elapsed) = %.3f, data says %.3f", late, got, observed)
	}
	uncond := p.PReady(0, late+d)
	if got >= uncond-0.3 {
		t.Errorf("conditional %.3f is not well below the unconditional %.3f", got, uncond)
	}
	med := p.Median()
	fresh := p.PReady(med-d, d) // on schedule, 2 min before its median
	if got >= fresh {
		t.Errorf("late order P %.3f >= on-schedule order P %.3f for the same 2 minutes", got, fresh)
	}
	t.Logf("late %s: model %.3f data %.3f unconditional %.3f on-schedule %.3f", late, got, observed, uncond, fresh)
}

func TestPriorsWithoutHistory(t *testing.T) {
	m := predict.New()
	f := predict.Features{}
	p := m.Predict(&f)
	if med := p.Median(); med < 5*time.Minute || med > 10*time.Minute {
		t.Errorf("prior median %s, want 5-10 min", med)
	}
	if pr := p.PReady(0, time.Minute); pr > 0.05 {
		t.Errorf("prior P(ready in 1 min) = %.3f", pr)
	}
	if pr := p.PReady(0, time.Hour); pr < 0.95 {
		t.Errorf("prior P(ready in 1 h) = %.3f", pr)
	}
	if pr := p.PReady(100*time.Hour, 10*time.Minute); pr <= 0 || pr >= 1 {
		t.Errorf("far past the tail: %.3f, want strictly between 0 and 1", pr)
	}
	if m.Learn(&f, time.Second) || m.Learn(&f, 5*time.Hour) {
		t.Error("learned an absurd prep time")
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	s := newSynth(4)
	m := trained(s, 500)
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	m2 := predict.New()
	if err := m2.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		f := s.features(time.Date(2026, 4, 1, 8+i/2, 0, 0, 0, time.UTC))
		a, b := m.Predict(&f), m2.Predict(&f)
		if a.Median() != b.Median() || a.PReady(time.Minute, 3*time.Minute) != b.PReady(time.Minute, 3*time.Minute) {
			t.Fatalf("restored model differs: %s vs %s", a.Median(), b.Median())
		}
	}
	if m2.Learned() != 500 {
		t.Errorf("Learned = %d", m2.Learned())
	}
	for _, bad := range []string{"", "{", `{"version":2}`, `{"version":1,"res":{"w":[1,2]}}`} {
		if err := predict.New().UnmarshalBinary([]byte(bad)); err == nil {
			t.Errorf("UnmarshalBinary(%q) accepted", bad)
		}
	}
}

func FuzzUnmarshalBinary(f *testing.F) {
	b, _ := trained(newSynth(5), 50).MarshalBinary()
	f.Add(b)
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"res":{"w":[]},"reg":{"n":-1}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m := predict.New()
		if err := m.UnmarshalBinary(b); err != nil {
			return
		}
		ft := predict.Features{Items: 2, SKUs: []predict.SKUQty{{SKU: "x", Qty: 2}}}
		p := m.Predict(&ft)
		if pr := p.PReady(time.Minute, time.Minute); pr < 0 || pr > 1 || math.IsNaN(pr) {
			t.Fatalf("P = %v", pr)
		}
		_ = p.Median()
		m.Learn(&ft, 5*time.Minute)
	})
}

func BenchmarkPredictLearn(b *testing.B) {
	s := newSynth(6)
	m := trained(s, 1000)
	fs := make([]predict.Features, 1024)
	for i := range fs {
		fs[i] = s.features(time.Date(2026, 4, 1, i%24, 0, 0, 0, time.UTC))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		f := &fs[i%len(fs)]
		p := m.Predict(f)
		_ = p.Median()
		_ = p.PReady(0, 5*time.Minute)
		m.Learn(f, 8*time.Minute)
	}
}

func ExampleModel() {
	m := predict.New()
	at := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for i := 0; i < 300; i++ {
		f := predict.Features{Items: 2, At: at}
		m.Learn(&f, 6*time.Minute)
	}
	f := predict.Features{Items: 2, At: at}
	p := m.Predict(&f)
	fmt.Println(p.Median().Round(time.Minute), p.PReady(0, 10*time.Minute) > 0.9)
	// Output: 6m0s true
}
