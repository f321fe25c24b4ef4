package modelcmd

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/passline/passline/agent/predict"
	"github.com/passline/passline/history"
)

func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	history := fs.String("history", "", "history CSV to replay (required; .gz accepted)")
	frac := fs.Float64("train-frac", 0.8, "share of orders, in accept order, learned before scoring starts")
	asJSON := fs.Bool("json", false, "print the report as JSON on stdout")
	predOut := fs.String("predictions", "", "write one CSV row per scored order to this file")
	stores := fs.String("stores", "", "comma-separated store ids to keep (default: all)")
	quiet := fs.Bool("quiet", false, "no progress bar")
	prior := fs.String("prior", "auto", "fleet prior the stores start from: auto (fitted on the orders completed before the first scored one), none (the default prior), or a file written by model fit")
	dropUnder := fs.Duration("drop-under", 0, "drop orders ready sooner than this after accept (e.g. 1m: marked ready at accept)")
	dropOver := fs.Duration("drop-over", 0, "drop orders ready later than this after accept (e.g. 2h: pre-orders); 0 keeps them")
	if help, err := parseFlags(fs, args, "passline-agent model eval --history FILE.csv [--train-frac 0.8] [--prior auto|none|FILE] [--json] [--predictions OUT.csv]\n\n"+
		"Replays the history in accept order through the live model code, scores the orders after\n"+
		"the first train-frac against two baselines and prints MAE, median and p90 absolute error,\n"+
		"bias, a calibration table of P(ready within 2, 5, 10, 15 min | elapsed), and per store-size\n"+
		"class the confident predictions and the share of orders that would get ready_soon.", stdout); help || err != nil {
		return err
	}
	if *history == "" {
		return fmt.Errorf("model eval: --history is required")
	}
	if !(*frac >= 0 && *frac < 1) {
		return fmt.Errorf("model eval: --train-frac %v is not in [0,1)", *frac)
	}
	h, err := loadHistory(*history, stderr)
	if err != nil {
		return err
	}
	if *stores != "" {
		h.Rows = keepStores(h.Rows, *stores)
	}
	h.Rows = keepPrep(h.Rows, *dropUnder, *dropOver)
	opt := evalOptions{TrainFrac: *frac}
	switch *prior {
	case "auto":
		opt.FitPrior = true
	case "none":
		opt.PriorName = "default"
	default:
		if opt.Fleet, err = loadFleet(*prior); err != nil {
			return fmt.Errorf("model eval: %w", err)
		}
		opt.PriorName = *prior
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var bar *progressBar
	if !*quiet && len(h.Rows) >= 20000 {
		bar = &progressBar{w: stderr, label: "replay"}
	}
	rep, err := evaluateTo(h, opt, *predOut, bar)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printReport(stdout, rep)
	return nil
}

func evaluateTo(h *History, opt evalOptions, predPath string, bar *progressBar) (*Report, error) {
	if bar != nil {
		opt.Progress = bar.update
		defer bar.done()
	}
	if predPath == "" {
		return evaluate(h, opt), nil
	}
	f, err := os.Create(predPath)
	if err != nil {
		return nil, fmt.Errorf("model eval: %w", err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "order_id,store_id,actual_s,pred_s,p_120,p_300,p_600,p_900")
	opt.Out = func(r *Row, pred float64, p []float64) {
		fmt.Fprintf(w, "%s,%s,%.0f,%.0f,%.4f,%.4f,%.4f,%.4f\n", csvField(r.OrderID), r.Store, r.Prep().Seconds(), pred, p[0], p[1], p[2], p[3])
	}
	rep := evaluate(h, opt)
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, fmt.Errorf("model eval: write %s: %w", predPath, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("model eval: write %s: %w", predPath, err)
	}
	return rep, nil
}

func csvField(s string) string {
	if strings.ContainsAny(s, ",\"\n\r") {
		return strconv.Quote(s)
	}
	return s
}

// loadHistory reads a history file and reports its bad rows on stderr.
func loadHistory(path string, stderr io.Writer) (*History, error) {
	return history.ReadFile(path, stderr)
}

func keepStores(rows []Row, list string) []Row {
	keep := map[string]bool{}
	for _, s := range strings.Split(list, ",") {
		keep[strings.TrimSpace(s)] = true
	}
	out := rows[:0:0]
	for _, r := range rows {
		if keep[r.Store] {
			out = append(out, r)
		}
	}
	return out
}

// keepPrep drops rows whose prep time is under lo or, when hi > 0, over hi.
func keepPrep(rows []Row, lo, hi time.Duration) []Row {
	if lo <= 0 && hi <= 0 {
		return rows
	}
	out := rows[:0:0]
	for _, r := range rows {
		if p := r.Prep(); p >= lo && (hi <= 0 || p <= hi) {
			out = append(out, r)
		}
	}
	return out
}

// loadFleet reads a fleet prior file written by model fit.
func loadFleet(path string) (predict.Fleet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open fleet prior: %w", err)
	}
	defer f.Close()
	fl, err := ReadFleet(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return fl, nil
}
