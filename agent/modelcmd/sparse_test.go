package modelcmd_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"testing"

	"github.com/passline/passline/agent/modelcmd"
)

const sparseFile = "../testdata/sparse-marketplace.csv.gz"

// TestSparseFileReproducible: the committed sparse marketplace is what
// "model gen --seed 1" writes, so it can be regenerated rather than trusted.
func TestSparseFileReproducible(t *testing.T) {
	f, err := os.Open(sparseFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	var gen bytes.Buffer
	if err := modelcmd.WriteSparse(&gen, modelcmd.DefaultSparse(1)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(committed, gen.Bytes()) {
		t.Fatalf("%s differs from model gen --seed 1 (%d vs %d bytes); regenerate it", sparseFile, len(committed), gen.Len())
	}
}

// TestSparseMarketplaceAcceptance replays the sparse marketplace (orders
// under a minute and over two hours dropped) with a fleet prior fitted on
// the orders before the scored ones: in every store-size class with at
// least 200 of them, predictions of P(ready within 2, 5, 10, 15 min) ≥
// 0.85 come true at least as often as predicted less 3 points, and the
// model's MAE is at most 0.95 of the per-store rolling median's.
func TestSparseMarketplaceAcceptance(t *testing.T) {
	r := sparseEval(t, "--history", sparseFile, "--drop-under", "1m", "--drop-over", "2h")
	ratio := r.Model.MAE / r.Store.MAE
	t.Logf("model MAE %.1f s, store median %.1f s: ratio %.3f; ready_soon coverage %.3f, ready in time %.3f",
		r.Model.MAE, r.Store.MAE, ratio, r.ReadySoon.Coverage, r.ReadySoon.Observed)
	if ratio > 0.95 {
		t.Errorf("model MAE is %.3f of the store median baseline, want ≤ 0.95", ratio)
	}
	checked := 0
	for _, c := range r.Classes {
		for _, h := range c.Confident {
			t.Logf("class %s d=%d: n=%d predicted %.3f observed %.3f", c.Class, h.D, h.N, h.Predicted, h.Observed)
			if h.N < 200 {
				continue
			}
			checked++
			if h.Observed < h.Predicted-0.03 {
				t.Errorf("class %s, P(ready within %d s) ≥ 0.85: predicted %.3f, observed %.3f (n=%d)", c.Class, h.D, h.Predicted, h.Observed, h.N)
			}
		}
	}
	if checked < 5 {
		t.Errorf("only %d class × horizon cells with n ≥ 200: the check says little", checked)
	}
}

func sparseEval(t *testing.T, args ...string) sparseReport {
	t.Helper()
	var r sparseReport
	evalInto(t, &r, args...)
	return r
}

type sparseReport struct {
	report
	ReadySoon struct {
		Coverage float64 `json:"coverage"`
		Observed float64 `json:"observed"`
	} `json:"ready_soon"`
	Classes []struct {
		Class     string `json:"class"`
		Confident []struct {
			D         int     `json:"d_s"`
			N         int     `json:"n"`
			Predicted float64 `json:"predicted"`
			Observed  float64 `json:"observed"`
		} `json:"confident"`
	} `json:"classes"`
}
