// Package modelcmd implements "passline-agent model": evaluate the
// prep-time model on a history CSV and warm-start a store from one.
//
//	passline-agent model eval --history FILE.csv [--train-frac 0.8] [--json] [--predictions OUT.csv] [--stores a,b]
//	passline-agent model import --history FILE.csv --db STATE.db [--store S]
//	passline-agent model fit --history FILE.csv [--out prior.json]
//	passline-agent model gen [--seed 1] [--out FILE.csv.gz]
//
// eval replays the history in accept order through the same online code
// the live agent runs (agent/predict): every order is predicted when it is
// accepted, from what had completed before, and learned when it is ready.
// Orders after the first train-frac are scored against two baselines (the
// global median and the per-store rolling median of prior orders) and a
// per-store, per-size, per-load bucketed median, the alternative method the
// model was chosen over. The kitchen load of each order is rebuilt the way
// the live agent knows it: the orders of the same store accepted before it
// and not yet ready at its accept time, kept in a heap of ready times as
// the replay streams through the file.
//
// The calibration table asks every scored order P(ready within 2, 5 and 10
// min | elapsed) at accept and again at 2, 5, 10, 15 and 20 minutes while it
// is still open, using the model as it stood at the order's accept (the
// minutes of learning in between would move it by a hair), and counts how
// often the order really was ready in time.
//
// import learns a history the same way and saves each store's model
// (predict.Model.MarshalBinary) in the agent's state db under bucket
// "model", key = store id, replacing what was there. The agent must be
// stopped: the state db is opened with a lock timeout and import fails with
// "state db locked by another process" rather than wait.
package modelcmd

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

const usage = `usage: passline-agent model <command> [flags]

commands:
  eval     replay a history CSV through the prep-time model and report its
           accuracy and calibration next to two baselines
  import   learn a history CSV and save each store's model in the state db
  fit      fit the fleet prior per store category from a history CSV
  gen      write a sparse-marketplace history (many stores, few orders)

history CSV: a header row, columns in any order, extra columns ignored.
Required: store_id, order_id, accepted_at, ready_at (RFC 3339 or unix
seconds). Optional: started_at, items, distinct_items, skus (sku*qty;sku*qty),
station, subtotal, promised_at, category (the store's tag, e.g. cuisine). A .gz file is read as gzip. Bad rows are
reported with their line number, skipped and counted.

Run "passline-agent model <command> --help" for its flags.
`

// Run runs "passline-agent model ARGS...". It returns an error for bad
// usage or an unreadable file; bad rows are reported and skipped.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("model: missing command")
	}
	switch args[0] {
	case "eval":
		return runEval(ctx, args[1:], stdout, stderr)
	case "import":
		return runImport(ctx, args[1:], stdout, stderr)
	case "fit":
		return runFit(ctx, args[1:], stdout, stderr)
	case "gen":
		return runGen(ctx, args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("model: unknown command %q", args[0])
	}
}

// parseFlags parses fs, treating --help as success after printing the
// synopsis and the flags.
func parseFlags(fs *flag.FlagSet, args []string, synopsis string, stdout io.Writer) (help bool, err error) {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(stdout, "usage: %s\n\nflags:\n", synopsis)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return true, nil
		}
		return false, fmt.Errorf("model %s: %w", fs.Name(), err)
	}
	if fs.NArg() > 0 {
		return false, fmt.Errorf("model %s: unexpected argument %q", fs.Name(), strings.Join(fs.Args(), " "))
	}
	return false, nil
}
