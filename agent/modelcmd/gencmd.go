package modelcmd

import (
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func runGen(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	seed := fs.Uint64("seed", 1, "random seed; the same seed writes the same file")
	stores := fs.Int("stores", DefaultSparse(1).Stores, "stores in the marketplace")
	days := fs.Int("days", DefaultSparse(1).Days, "days of history")
	out := fs.String("out", "", "file to write (gzip when it ends in .gz); default stdout")
	if help, err := parseFlags(fs, args, "passline-agent model gen [--seed 1] [--stores 1700] [--days 30] [--out FILE.csv.gz]\n\n"+
		"Writes a sparse-marketplace history: thousands of stores with tens of orders each, items,\n"+
		"value, time and category but no SKUs or stations, a long right tail, 3% of orders ready\n"+
		"within a minute and 1% after two hours.", stdout); help || err != nil {
		return err
	}
	if *stores < 1 || *days < 1 {
		return fmt.Errorf("model gen: --stores and --days must be positive")
	}
	c := DefaultSparse(*seed)
	c.Stores, c.Days = *stores, *days
	if *out == "" {
		return WriteSparse(stdout, c)
	}
	return writeFile(*out, func(w io.Writer) error { return WriteSparse(w, c) })
}

// writeFile writes path through write, gzipped when path ends in .gz.
func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	var w io.Writer = f
	var zw *gzip.Writer
	if strings.HasSuffix(path, ".gz") {
		zw, _ = gzip.NewWriterLevel(f, gzip.BestCompression)
		// ModTime stays zero: the same input writes the same bytes.
		w = zw
	}
	err = write(w)
	if zw != nil && err == nil {
		err = zw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
