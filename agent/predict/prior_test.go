package predict_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/passline/passline/agent/predict"
)

func TestPriorRefusesMalformed(t *testing.T) {
	good := predict.DefaultPrior()
	good.Calib[0] = predict.FitCalibration([]float64{0.1, 0.5, 0.9})
	if err := good.Validate(); err != nil {
		t.Fatalf("good prior refused: %v", err)
	}
	for name, spoil := range map[string]func(p *predict.Prior){
		"version":       func(p *predict.Prior) { p.Version = 99 },
		"nan beta":      func(p *predict.Prior) { p.Beta[1] = math.NaN() },
		"huge beta":     func(p *predict.Prior) { p.Beta[0] = 1e6 },
		"zero sigma":    func(p *predict.Prior) { p.Sigma = 0 },
		"negative tau":  func(p *predict.Prior) { p.Tau = -1 },
		"short calib":   func(p *predict.Prior) { p.Calib[1] = []float64{0.5} },
		"falling calib": func(p *predict.Prior) { p.Calib[0][3], p.Calib[0][4] = 0.9, 0.1 },
		"maps count":    func(p *predict.Prior) { p.Decide[0] = []predict.DecisionMap{{}} },
		"city offset":   func(p *predict.Prior) { p.Cities = map[string]float64{"x": math.NaN()} },
		"own input":     func(p *predict.Prior) { p.Own = map[string]float64{"intercept": 1} },
		"decision map xy": func(p *predict.Prior) {
			p.Decide[2] = make([]predict.DecisionMap, len(predict.DecisionHorizons))
			p.Decide[2][0].X = []float64{0.5}
		},
	} {
		p := *good
		p.Calib[0] = append([]float64(nil), good.Calib[0]...)
		spoil(&p)
		if err := p.Validate(); err == nil {
			t.Errorf("%s: malformed prior accepted", name)
		}
		m := predict.New()
		before := m.Prior()
		if err := m.SetPrior(&p); err == nil || m.Prior() != before {
			t.Errorf("%s: SetPrior took a malformed prior (err %v)", name, err)
		}
	}
	for _, bad := range []string{"", "{", `{"version":1}`, `{"version":1,"sigma":0.5,"tau":0.5,"beta":[1,"x"]}`} {
		if _, err := predict.ParsePrior([]byte(bad)); err == nil {
			t.Errorf("ParsePrior(%q) accepted", bad)
		}
	}
}

// TestLoadsVersion1Model loads a model saved by the build before fleet
// priors (14 regression inputs, no prior, no store effect): it answers as
// it did then and keeps learning.
func TestLoadsVersion1Model(t *testing.T) {
	b, err := os.ReadFile("testdata/model-v1.json")
	if err != nil {
		t.Fatal(err)
	}
	m := predict.New()
	if err := m.UnmarshalBinary(b); err != nil {
		t.Fatalf("version 1 model refused: %v", err)
	}
	if m.Learned() != 400 {
		t.Errorf("Learned = %d, want 400", m.Learned())
	}
	f := predict.Features{At: time.Date(2026, 3, 4, 9, 40, 0, 0, time.UTC), Items: 2, Distinct: 1,
		SKUs: []predict.SKUQty{{SKU: "s1", Qty: 2}}, Station: "grill", OpenOrders: 2}
	// The version 1 build answered 7m54.9s for this order.
	if med := m.Predict(&f).Median(); math.Abs(med.Seconds()/474.9-1) > 0.03 {
		t.Errorf("median %s after migration, version 1 said 7m54.9s", med)
	}
	m.Learn(&f, 8*time.Minute)
	if _, err := m.MarshalBinary(); err != nil {
		t.Fatal(err)
	}
}

// TestUncertaintyNarrowsWithHistory: a new store from a fleet prior gets a
// wide distribution centred on its category; as it learns its own orders
// (here 40% slower than the category), the centre moves to it and the
// spread narrows toward the store's own.
func TestUncertaintyNarrowsWithHistory(t *testing.T) {
	p := predict.DefaultPrior()
	p.Beta = [10]float64{0: math.Log(600)}
	p.Sigma, p.Tau = 0.3, 0.4
	m, err := predict.NewWithPrior(p)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	at := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	f := predict.Features{Items: 1, At: at}
	spread := func() float64 {
		pr := m.Predict(&f)
		return pr.Quantile(0.9, 0).Seconds() / pr.Quantile(0.1, 0).Seconds()
	}
	cold, coldMed := spread(), m.Predict(&f).Median().Seconds()
	for i := 0; i < 300; i++ {
		m.Learn(&f, time.Duration(840*math.Exp(0.3*rng.NormFloat64())*float64(time.Second)))
	}
	warm, warmMed := spread(), m.Predict(&f).Median().Seconds()
	t.Logf("p90/p10 cold %.2f warm %.2f; median cold %.0f s warm %.0f s", cold, warm, coldMed, warmMed)
	if want := math.Exp(2 * 1.2816 * math.Hypot(0.3, 0.4)); math.Abs(cold/want-1) > 0.1 {
		t.Errorf("cold p90/p10 = %.2f, want about %.2f (sd of order and store together)", cold, want)
	}
	if warm > 0.8*cold {
		t.Errorf("spread did not narrow with history: %.2f -> %.2f", cold, warm)
	}
	if math.Abs(coldMed/600-1) > 0.05 || math.Abs(warmMed/840-1) > 0.08 {
		t.Errorf("median cold %.0f s (want 600), warm %.0f s (want 840)", coldMed, warmMed)
	}
}

func TestFitFleetRecoversSpreads(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	const sigma, tau = 0.35, 0.25
	var obs []predict.Observation
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	for s := 0; s < 400; s++ {
		cat, catEff := "a", 0.0
		if s%2 == 1 {
			cat, catEff = "b", 0.3
		}
		eff := catEff + tau*rng.NormFloat64()
		for i := 0; i < 20; i++ {
			items := 1 + rng.IntN(5)
			y := math.Log(500) + eff + 0.4*math.Log1p(float64(items)) + sigma*rng.NormFloat64()
			obs = append(obs, predict.Observation{Store: string(rune('A'+s%26)) + string(rune('a'+s/26)), Category: cat,
				Features: predict.Features{Items: items, At: at}, LogPrep: y})
		}
	}
	fl, err := predict.FitFleet(obs)
	if err != nil {
		t.Fatal(err)
	}
	a, b := fl.For("a"), fl.For("b")
	if math.Abs(a.Sigma-sigma) > 0.03 || math.Abs(a.Tau-tau) > 0.06 {
		t.Errorf("sigma %.3f tau %.3f, want %.2f %.2f", a.Sigma, a.Tau, sigma, tau)
	}
	if d := b.Beta[0] - a.Beta[0]; math.Abs(d-0.3) > 0.08 {
		t.Errorf("category b is %.3f slower than a in the prior, want 0.3", d)
	}
	if math.Abs(a.Beta[1]-0.4) > 0.06 {
		t.Errorf("items coefficient %.3f, want 0.4", a.Beta[1])
	}
	if fl.For("unknown") != fl[predict.DefaultCategory] {
		t.Error("an unknown category does not get the fleet default")
	}
}

// TestFitFleetLearnsCityOffsets: stores of city "slow" are 0.3 slower in
// log prep time than their category, those of "fast" 0.3 faster; the fit
// recovers the difference (shrunk a little toward 0 for the number of
// stores), a new store of each city starts from its city's centre, and a
// fleet whose orders have no city gets no city table.
func TestFitFleetLearnsCityOffsets(t *testing.T) {
	rng := rand.New(rand.NewPCG(6, 6))
	at := time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)
	var obs []predict.Observation
	for s := 0; s < 80; s++ {
		city, eff := "fast", -0.3
		if s%2 == 1 {
			city, eff = "slow", 0.3
		}
		eff += 0.15 * rng.NormFloat64()
		for i := 0; i < 25; i++ {
			obs = append(obs, predict.Observation{Store: fmt.Sprintf("s%02d", s), Category: "a", City: city,
				Features: predict.Features{Items: 1, At: at}, LogPrep: math.Log(500) + eff + 0.35*rng.NormFloat64()})
		}
	}
	fl, err := predict.FitFleet(obs)
	if err != nil {
		t.Fatal(err)
	}
	if err := fl.Validate(); err != nil {
		t.Fatal(err)
	}
	p := fl.For("a")
	d := p.Cities["slow"] - p.Cities["fast"]
	if d < 0.45 || d > 0.65 {
		t.Errorf("slow city is %.3f slower than fast in the prior (offsets %v), want about 0.6 less shrinkage", d, p.Cities)
	}
	f := predict.Features{Items: 1, At: at}
	med := func(pr *predict.Prior) float64 {
		m, err := predict.NewWithPrior(pr)
		if err != nil {
			t.Fatal(err)
		}
		return m.Predict(&f).Median().Seconds()
	}
	slow, fast, none := med(p.ForCity("slow")), med(p.ForCity("fast")), med(p.ForCity("elsewhere"))
	t.Logf("new store median: slow city %.0f s, fast city %.0f s, unknown city %.0f s", slow, fast, none)
	if r := slow / fast; r < math.Exp(0.45) || r > math.Exp(0.65) {
		t.Errorf("new store in the slow city starts at %.2f× the fast city's median, want about %.2f×", r, math.Exp(0.6))
	}
	if p.ForCity("slow").ForCity("slow").Beta[0] != p.ForCity("slow").Beta[0] {
		t.Error("a city offset applied twice")
	}
	for i := range obs {
		obs[i].City = ""
	}
	if fl, _ := predict.FitFleet(obs); fl.For("a").Cities != nil {
		t.Errorf("a fleet without cities has city offsets %v", fl.For("a").Cities)
	}
}

func TestFitCalibrationAndDecisions(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	// A model whose CDF is too narrow: PIT values pile up at the ends.
	var pit []float64
	for i := 0; i < 20000; i++ {
		z := 2 * rng.NormFloat64() // truth has twice the model's sd
		pit = append(pit, 0.5*math.Erfc(-z/math.Sqrt2))
	}
	g := predict.FitCalibration(pit)
	for i := 1; i < len(g); i++ {
		if g[i] < g[i-1] {
			t.Fatalf("calibration not monotone at %d", i)
		}
	}
	// Decisions that claim 0.9 but come true 0.8 of the time are mapped
	// down, and the map never rises with falling P.
	var ps []float64
	var hits []bool
	for i := 0; i < 20000; i++ {
		p := 0.5 + 0.49*rng.Float64()
		ps, hits = append(ps, p), append(hits, rng.Float64() < p-0.1)
	}
	d := predict.FitDecisions(ps, hits)
	for i := 1; i < len(d.Y); i++ {
		if d.Y[i] < d.Y[i-1] || d.X[i] <= d.X[i-1] {
			t.Fatalf("decision map not monotone: %+v", d)
		}
	}
	for i, x := range d.X {
		if x > 0.6 && math.Abs(d.Y[i]-(x-0.1)) > 0.03 {
			t.Errorf("P %.2f mapped to %.3f, came true %.2f", x, d.Y[i], x-0.1)
		}
	}
}
