package modelcmd_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/passline/passline/agent/modelcmd"
)

// writeSynthHistory writes n orders from stores kitchens, in accept order:
// prep time grows with items, SKU and load, with a remade tail.
func writeSynthHistory(tb testing.TB, path string, n, stores int) {
	tb.Helper()
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "store_id,order_id,accepted_at,ready_at,items,distinct_items,skus,station,subtotal,promised_at")
	rng := rand.New(rand.NewPCG(7, 7))
	stations := []string{"wok", "grill", "fryer", "cold", "drinks"}
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("", 8*3600))
	for i := 0; i < n; i++ {
		at = at.Add(time.Duration(rng.IntN(40)) * time.Second)
		store := rng.IntN(stores)
		items := 1 + rng.IntN(5)
		sku := rng.IntN(20)
		y := math.Log(200) + 0.4*math.Log1p(float64(items)) + float64(sku%5)*0.1 + 0.3*rng.NormFloat64()
		if rng.Float64() < 0.02 {
			y += 1
		}
		ready := at.Add(time.Duration(math.Exp(y)) * time.Second)
		fmt.Fprintf(w, "store-%03d,o%d,%s,%s,%d,1,S%03d*%d,%s,%.1f,%s\n", store, i, at.Format(time.RFC3339), ready.Format(time.RFC3339),
			items, sku, items, stations[sku%5], 20+10*float64(items), at.Add(20*time.Minute).Format(time.RFC3339))
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkEval100k is "model eval --json" over 100,000 history rows:
// read, parse, replay with predictions at accept and five elapsed times,
// baselines and calibration. Acceptance: under 10 s per op.
func BenchmarkEval100k(b *testing.B) {
	path := filepath.Join(b.TempDir(), "h.csv")
	writeSynthHistory(b, path, 100_000, 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := modelcmd.Run(context.Background(), []string{"eval", "--json", "--quiet", "--history", path}, io.Discard, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSharedHistoryAcceptance checks the model's acceptance figures on a full
// history file. It needs PASSLINE_HISTORY (e.g.
// ../../../shared/data/kitchen-history-a.csv.gz); `make eval-check` sets it.
func TestSharedHistoryAcceptance(t *testing.T) {
	path := os.Getenv("PASSLINE_HISTORY")
	if path == "" {
		t.Skip("set PASSLINE_HISTORY to a history CSV to run the acceptance figures")
	}
	for _, frac := range []string{"0.8", "0.5"} {
		r := evalJSON(t, "--history", path, "--train-frac", frac)
		ratio := r.Model.MAE / r.Store.MAE
		t.Logf("train-frac %s: model MAE %.1f s, store median %.1f s (ratio %.3f), global %.1f s; P>=0.85: n=%d observed %.3f",
			frac, r.Model.MAE, r.Store.MAE, ratio, r.Global.MAE, r.Confident.N, r.Confident.Observed)
		if ratio > 0.60 {
			t.Errorf("model MAE is %.3f of the store median baseline, want ≤ 0.60", ratio)
		}
		if r.Confident.Observed < 0.82 {
			t.Errorf("P ≥ 0.85 came true %.3f of the time, want ≥ 0.82", r.Confident.Observed)
		}
		for _, c := range r.Calibration {
			if c.N >= 1000 && math.Abs(c.Observed-c.Pred) > 0.03 {
				t.Errorf("d=%d P %.2f-%.2f: predicted %.3f observed %.3f (n=%d), more than 3 points off", c.D, c.PLo, c.PHi, c.Pred, c.Observed, c.N)
			}
		}
	}
}
