package modelcmd

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/passline/passline/agent/predict"
)

func runFit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fit", flag.ContinueOnError)
	history := fs.String("history", "", "history CSV of many stores, with a category column (required; .gz accepted)")
	out := fs.String("out", "", "file to write the fleet prior to (JSON); default stdout")
	if help, err := parseFlags(fs, args, "passline-agent model fit --history FILE.csv [--out prior.json]\n\n"+
		"Fits the fleet prior per store category (what a new store starts from) and writes it as JSON;\n"+
		"model eval --prior FILE replays a history from it. passline-cloud model fit publishes it.", stdout); help || err != nil {
		return err
	}
	fl, err := FitHistoryFile(ctx, *history, stderr)
	if err != nil {
		return fmt.Errorf("model fit: %w", err)
	}
	if *out == "" {
		return WriteFleet(stdout, fl)
	}
	return writeFile(*out, func(w io.Writer) error { return WriteFleet(w, fl) })
}

// FitHistoryFile reads a history CSV (bad rows reported on stderr) and
// fits a fleet prior on it (FitFleet).
func FitHistoryFile(ctx context.Context, path string, stderr io.Writer) (predict.Fleet, error) {
	if path == "" {
		return nil, fmt.Errorf("--history is required")
	}
	h, err := loadHistory(path, stderr)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return FitFleet(h.Rows)
}
