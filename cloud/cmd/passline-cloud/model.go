package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/passline/passline/agent/modelcmd"
	"github.com/passline/passline/agent/predict"
	"github.com/passline/passline/cloud/natsjs"
)

const modelUsage = `usage: passline-cloud model fit --history FILE.csv [--out prior.json] [--publish [--nats URL] [--creds FILE] [--tls-ca FILE] [--replicas N]]

Fits the prep-time model's fleet prior per store category from a history CSV of
many stores (the columns of passline-agent model eval, with category) and, with
--publish, puts each category's prior under its key in KV PASSLINE_MODEL_PRIOR
("default" for stores of no known category). Every agent watches its own
category's key and applies a new prior live; a malformed one is refused there.
The fit is the agent's own code (agent/modelcmd), so the prior means to the
agent what it meant here.
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
	history := fs.String("history", "", "history CSV of many stores (required; .gz accepted)")
	out := fs.String("out", "", "also write the priors as JSON to this file")
	publish := fs.Bool("publish", false, "put the priors in KV PASSLINE_MODEL_PRIOR")
	var nf natsFlags
	nf.register(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *history == "" {
		return errors.New("model fit: --history is required")
	}
	fl, err := modelcmd.FitHistoryFile(ctx, *history, stderr)
	if err != nil {
		return fmt.Errorf("model fit: %w", err)
	}
	enc := make(map[string][]byte, len(fl))
	for k, p := range fl {
		if enc[k], err = json.Marshal(p); err != nil {
			return fmt.Errorf("model fit: encode prior %s: %w", k, err)
		}
	}
	if *out != "" {
		if err := writeFleet(*out, fl); err != nil {
			return err
		}
	}
	if !*publish {
		fmt.Fprintf(stdout, "fitted %d priors; not published (add --publish)\n", len(enc))
		return nil
	}
	nc, js, err := nf.connect()
	if err != nil {
		return fmt.Errorf("model fit: %w", err)
	}
	defer nc.Close()
	revs, err := natsjs.PublishPriors(ctx, js, nf.replicas, enc)
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

func writeFleet(path string, fl predict.Fleet) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("model fit: %w", err)
	}
	if err := modelcmd.WriteFleet(f, fl); err != nil {
		f.Close()
		return fmt.Errorf("model fit: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("model fit: write %s: %w", path, err)
	}
	return nil
}
