package modelcmd_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/agent/bolt"
	"github.com/passline/passline/agent/modelcmd"
	"github.com/passline/passline/agent/predict"
)

func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := modelcmd.Run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

type report struct {
	Rows    int `json:"rows"`
	BadRows int `json:"bad_rows"`
	Scored  int `json:"scored"`
	Model   struct {
		MAE  float64 `json:"mae_s"`
		Bias float64 `json:"bias_s"`
	} `json:"model"`
	Store struct {
		MAE float64 `json:"mae_s"`
	} `json:"baseline_store_median"`
	Global struct {
		MAE float64 `json:"mae_s"`
	} `json:"baseline_global_median"`
	Calibration []struct {
		D        int     `json:"d_s"`
		PLo      float64 `json:"p_lo"`
		PHi      float64 `json:"p_hi"`
		N        int     `json:"n"`
		Observed float64 `json:"observed"`
		Pred     float64 `json:"predicted"`
	} `json:"calibration"`
	Confident struct {
		N        int     `json:"n"`
		Observed float64 `json:"observed"`
	} `json:"confident"`
}

func evalJSON(t *testing.T, args ...string) report {
	t.Helper()
	var r report
	evalInto(t, &r, args...)
	return r
}

// evalInto runs eval --json with args and decodes its report into r.
func evalInto(t *testing.T, r any, args ...string) {
	t.Helper()
	out, stderr, err := run(t, append([]string{"eval", "--json"}, args...)...)
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, stderr)
	}
	if err := json.Unmarshal([]byte(out), r); err != nil {
		t.Fatalf("eval --json output is not JSON: %v\n%s", err, out)
	}
}

func TestEvalSample(t *testing.T) {
	pred := filepath.Join(t.TempDir(), "pred.csv")
	r := evalJSON(t, "--history", "testdata/sample.csv.gz", "--predictions", pred)
	if r.Rows != 2804 || r.BadRows != 0 || r.Scored != 561 {
		t.Errorf("rows %d bad %d scored %d, want 2804, 0, 561", r.Rows, r.BadRows, r.Scored)
	}
	if !(r.Model.MAE > 0 && r.Model.MAE < 0.8*r.Store.MAE && r.Store.MAE > 0 && r.Global.MAE > 0) {
		t.Errorf("model MAE %.1f, store median %.1f, global median %.1f: model should beat the store median by 20%%",
			r.Model.MAE, r.Store.MAE, r.Global.MAE)
	}
	ds := map[int]bool{}
	for _, b := range r.Calibration {
		ds[b.D] = true
		if b.PLo >= b.PHi || b.N < 0 || b.Observed < 0 || b.Observed > 1 {
			t.Errorf("bad calibration row %+v", b)
		}
	}
	if !ds[120] || !ds[300] || !ds[600] || !ds[900] {
		t.Errorf("calibration horizons %v, want 120, 300, 600, 900", ds)
	}
	if r.Confident.N == 0 || r.Confident.Observed < 0.82 {
		t.Errorf("confident predictions: %+v", r.Confident)
	}
	// The predictions file reproduces the model's MAE.
	f, err := os.Open(pred)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "order_id,store_id,actual_s,pred_s,p_120,p_300,p_600,p_900" || len(recs)-1 != r.Scored {
		t.Fatalf("predictions header %v and %d rows, want %d", recs[0], len(recs)-1, r.Scored)
	}
	sum := 0.0
	for _, rec := range recs[1:] {
		a, _ := strconv.ParseFloat(rec[2], 64)
		p, _ := strconv.ParseFloat(rec[3], 64)
		sum += math.Abs(a - p)
		p1, _ := strconv.ParseFloat(rec[4], 64)
		p2, _ := strconv.ParseFloat(rec[5], 64)
		p3, _ := strconv.ParseFloat(rec[6], 64)
		p4, _ := strconv.ParseFloat(rec[7], 64)
		if !(p1 <= p2 && p2 <= p3 && p3 <= p4) {
			t.Errorf("row %v: p_120 ≤ p_300 ≤ p_600 ≤ p_900 does not hold", rec)
		}
	}
	if mae := sum / float64(r.Scored); math.Abs(mae-r.Model.MAE) > 1 {
		t.Errorf("MAE from predictions file %.1f, report %.1f", mae, r.Model.MAE)
	}
}

func TestEvalText(t *testing.T) {
	out, _, err := run(t, "eval", "--history", "testdata/sample.csv.gz", "--train-frac", "0.5")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"baseline_store_median", "baseline_global_median", "model", "calibration", "P >= 0.85"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestBadRows(t *testing.T) {
	r := evalJSON(t, "--history", "testdata/bad.csv", "--train-frac", "0")
	if r.Rows != 3 || r.BadRows != 8 {
		t.Errorf("rows %d bad %d, want 3 good and 8 bad", r.Rows, r.BadRows)
	}
	_, stderr, _ := run(t, "eval", "--json", "--history", "testdata/bad.csv")
	for _, want := range []string{
		"bad.csv:4: skipped: accepted_at", "bad.csv:5: skipped: ready_at", "bad.csv:6: skipped: store_id",
		"bad.csv:7: skipped: duplicate order_id o1", "bad.csv:8: skipped: items", "bad.csv:9: skipped: skus",
		"bad.csv:10: skipped: accepted_at is empty", "bad.csv:12: skipped:",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	noCol := filepath.Join(dir, "h.csv")
	os.WriteFile(noCol, []byte("store_id,order_id,accepted_at\ns,o,1\n"), 0o600)
	for _, args := range [][]string{
		{}, {"bogus"}, {"eval"}, {"eval", "--history", filepath.Join(dir, "missing.csv")},
		{"eval", "--history", noCol}, {"eval", "--history", noCol, "--train-frac", "1.5"}, {"import", "--history", noCol},
	} {
		if _, _, err := run(t, args...); err == nil {
			t.Errorf("model %v succeeded", args)
		}
	}
	gz, _ := os.ReadFile("testdata/sample.csv.gz")
	truncated := filepath.Join(dir, "t.csv.gz")
	os.WriteFile(truncated, gz[:len(gz)/2], 0o600)
	if _, _, err := run(t, "eval", "--history", truncated); err == nil || !strings.Contains(err.Error(), "unexpected EOF") {
		t.Errorf("truncated gzip: %v, want an unexpected EOF error", err)
	}
	if _, _, err := run(t, "eval", "--help"); err != nil {
		t.Errorf("eval --help: %v", err)
	}
}

func TestImport(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "state.db")
	out, stderr, err := run(t, "import", "--history", "testdata/sample.csv.gz", "--db", dbPath, "--store", "store-011")
	if err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "store store-011: learned 1804 orders") {
		t.Errorf("import output: %s", out)
	}
	db, err := bolt.Open(dbPath, bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.LoadModel("store-011")
	if err != nil || b == nil {
		t.Fatalf("model of store-011: %v, %d bytes", err, len(b))
	}
	if other, _ := db.LoadModel("store-013"); other != nil {
		t.Error("--store store-011 also saved store-013")
	}
	m := predict.New()
	if err := m.UnmarshalBinary(b); err != nil || m.Learned() != 1804 {
		t.Fatalf("saved model: %v, learned %d", err, m.Learned())
	}
	// While the db is held (the agent runs), import refuses rather than waits.
	_, _, err = run(t, "import", "--history", "testdata/sample.csv.gz", "--db", dbPath, "--lock-timeout", "100ms")
	if err == nil || !strings.Contains(err.Error(), "locked") {
		t.Errorf("import into a locked db: %v", err)
	}
	db.Close()
}
