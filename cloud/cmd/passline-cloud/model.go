package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/passline/passline/agent/predict"
	"github.com/passline/passline/cloud/priorfit"
	"github.com/passline/passline/history"
)

const modelUsage = `usage: passline-cloud model fit (--history FILE.csv | --from-stream [--since 720h]) [--out prior.json] [--publish] [--nats URL] [--creds FILE] [--tls-ca FILE] [--replicas N]

Fits the prep-time model's fleet prior per store category and, with --publish,
puts each category's prior under its key in KV PASSLINE_MODEL_PRIOR ("default"
for stores of no known category). Every agent watches its own category's key
and applies a new prior live; a malformed one is refused there.

The orders come from a history CSV of many stores (the columns of
passline-agent model eval, with category), for a cold fleet, or with
--from-stream from what the agents already sync: the ready decisions kept in
stream DECISIONS (and its partitions), each with its accept time and the
order's items, value, station, category and city (--since bounds how far
back). The fit is the model's own code (agent/predict), so the prior means to
the agent what it meant here.
`

// runModel runs "passline-cloud model fit".
func runModel(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if isHelp(args) {
		return help(args, modelUsage, "model: missing command (fit)", stdout)
	}
	if args[0] != "fit" {
		fmt.Fprint(stderr, modelUsage)
		return fmt.Errorf("model: unknown command %q", args[0])
	}
	fs := newFlagSet("passline-cloud model fit", modelUsage, stderr)
	historyPath := fs.String("history", "", "history CSV of many stores (.gz accepted)")
	fromStream := fs.Bool("from-stream", false, "fit on the ready decisions stored in stream DECISIONS instead of a file")
	since := fs.Duration("since", 0, "with --from-stream, only decisions this recent (0: all the stream keeps)")
	out := fs.String("out", "", "also write the priors as JSON to this file")
	publish := fs.Bool("publish", false, "put the priors in KV PASSLINE_MODEL_PRIOR")
	var nf natsFlags
	nf.register(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if (*historyPath == "") == !*fromStream {
		return errors.New("model fit: give one of --history FILE and --from-stream")
	}
	fl, err := fitFleet(ctx, *historyPath, *since, nf, stderr)
	if err != nil {
		return fmt.Errorf("model fit: %w", err)
	}
	if *out != "" {
		if err := writeFleet(*out, fl); err != nil {
			return err
		}
	}
	if !*publish {
		fmt.Fprintf(stdout, "fitted %d priors; not published (add --publish)\n", len(fl))
		return nil
	}
	nc, js, err := nf.connect()
	if err != nil {
		return fmt.Errorf("model fit: %w", err)
	}
	defer nc.Close()
	revs, err := priorfit.Publish(ctx, js, nf.replicas, fl)
	if err != nil {
		return fmt.Errorf("model fit: %w", err)
	}
	keys := make([]string, 0, len(revs))
	for k := range revs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p := fl[k]
		fmt.Fprintf(stdout, "%s\trevision %d\t%d stores, %d orders\n", k, revs[k], p.Stores, p.Orders)
	}
	return nil
}

// fitFleet fits the fleet prior from the history file at path or, when
// path is empty, from the ready decisions of the last since (0: all) in
// the decision streams.
func fitFleet(ctx context.Context, path string, since time.Duration, nf natsFlags, stderr io.Writer) (predict.Fleet, error) {
	if path != "" {
		h, err := history.ReadFile(path, stderr)
		if err != nil {
			return nil, err
		}
		return predict.FitHistory(h.Rows)
	}
	nc, js, err := nf.connect()
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	var from time.Time
	if since > 0 {
		from = time.Now().Add(-since)
	}
	fl, n, err := priorfit.Fit(ctx, js, from, 20)
	if err == nil {
		fmt.Fprintf(stderr, "stream: fitted on %d orders\n", n)
	}
	return fl, err
}

func writeFleet(path string, fl predict.Fleet) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("model fit: %w", err)
	}
	if err := predict.WriteFleet(f, fl); err != nil {
		f.Close()
		return fmt.Errorf("model fit: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("model fit: write %s: %w", path, err)
	}
	return nil
}
