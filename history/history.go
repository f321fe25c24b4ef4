// Package history reads Passline's history CSV: completed orders of one
// or many stores (accept and ready time, items, SKUs, station, value,
// category), the format model eval replays, model fit fits the fleet
// prior on, and the sparse-marketplace generator writes. It is shared by
// the agent's model command and the cloud's, and imports nothing of
// either.
package history

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/passline/passline/wire"
)

// SKUQty is one line of an order: a SKU and how many of it.
type SKUQty struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

// MaxPrep is the longest prep time a row may have; a longer one is a
// broken clock or a forgotten order.
const MaxPrep = 4 * time.Hour

// Row is one completed order from a history CSV.
type Row struct {
	Line       int // line number in the file, for messages
	Store      string
	OrderID    string
	AcceptedAt time.Time
	ReadyAt    time.Time
	StartedAt  time.Time // zero when the column is absent or empty
	PromisedAt time.Time // zero when the column is absent or empty
	Items      int
	Distinct   int
	SKUs       []SKUQty
	Station    string
	Subtotal   float64
	Category   string // the store's category tag (cuisine); may be empty
	City       string // the store's city tag; may be empty
}

// Prep is the time from accept to ready.
func (r *Row) Prep() time.Duration { return r.ReadyAt.Sub(r.AcceptedAt) }

// BadRow is a row that was skipped, with why.
type BadRow struct {
	Line   int
	Reason string
}

// maxBadKept bounds how many bad rows are kept for reporting; all are counted.
const maxBadKept = 1000

// History is a parsed history file, sorted by accept time.
type History struct {
	Rows    []Row
	Bad     []BadRow // the first maxBadKept bad rows
	BadRows int      // all bad rows
}

func (h *History) bad(line int, format string, args ...any) {
	h.BadRows++
	if len(h.Bad) < maxBadKept {
		h.Bad = append(h.Bad, BadRow{Line: line, Reason: fmt.Sprintf(format, args...)})
	}
}

var required = []string{"store_id", "order_id", "accepted_at", "ready_at"}

// ReadHistory parses a history CSV (plain or gzip, detected from its first
// bytes): a header row, columns in any order, extra columns ignored. Bad
// rows are counted and skipped; only an unreadable file or header is an
// error.
func ReadHistory(r io.Reader) (*History, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("open gzip: %w", err)
		}
		defer zr.Close()
		br = bufio.NewReaderSize(zr, 1<<16)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	col := map[string]int{}
	for i, name := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(name, "\ufeff")))] = i
	}
	for _, name := range required {
		if _, ok := col[name]; !ok {
			return nil, fmt.Errorf("header: missing required column %q", name)
		}
	}
	h := &History{}
	seen := map[string]bool{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			h.bad(pe.Line, "%v", pe.Err)
			continue
		}
		if err != nil {
			return h, fmt.Errorf("read history: %w", err)
		}
		line, _ := cr.FieldPos(0) // a record read without error has a field 0
		row, reason := parseRow(rec, col, line)
		if reason == "" && seen[row.Store+"\x00"+row.OrderID] {
			reason = "duplicate order_id " + row.OrderID
		}
		if reason != "" {
			h.bad(line, "%s", reason)
			continue
		}
		seen[row.Store+"\x00"+row.OrderID] = true
		h.Rows = append(h.Rows, row)
	}
	sort.SliceStable(h.Rows, func(i, j int) bool { return h.Rows[i].AcceptedAt.Before(h.Rows[j].AcceptedAt) })
	return h, nil
}

// ReadFile reads a history file (plain or gzip) and reports its bad rows
// on stderr, one line each with the file and line number.
func ReadFile(path string, stderr io.Writer) (*History, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open history: %w", err)
	}
	defer f.Close()
	h, err := ReadHistory(f)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	for _, b := range h.Bad {
		fmt.Fprintf(stderr, "%s:%d: skipped: %s\n", path, b.Line, b.Reason)
	}
	if h.BadRows > len(h.Bad) {
		fmt.Fprintf(stderr, "%s: ... %d more bad rows not shown\n", path, h.BadRows-len(h.Bad))
	}
	if h.BadRows > 0 {
		fmt.Fprintf(stderr, "%s: %d good rows, %d bad rows skipped\n", path, len(h.Rows), h.BadRows)
	}
	return h, nil
}

func field(rec []string, col map[string]int, name string) string {
	i, ok := col[name]
	if !ok || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// parseRow returns the row, or a non-empty reason it is bad.
func parseRow(rec []string, col map[string]int, line int) (Row, string) {
	r := Row{Line: line, Store: field(rec, col, "store_id"), OrderID: field(rec, col, "order_id")}
	if !wire.ValidToken(r.Store) {
		return r, fmt.Sprintf("store_id %q is not a token", clip(r.Store))
	}
	if r.OrderID == "" || len(r.OrderID) > wire.MaxTextLen {
		return r, "order_id is empty or too long"
	}
	var err error
	for _, t := range []struct {
		name string
		dst  *time.Time
		req  bool
	}{{"accepted_at", &r.AcceptedAt, true}, {"ready_at", &r.ReadyAt, true}, {"started_at", &r.StartedAt, false}, {"promised_at", &r.PromisedAt, false}} {
		v := field(rec, col, t.name)
		if v == "" {
			if t.req {
				return r, t.name + " is empty"
			}
			continue
		}
		if *t.dst, err = parseTime(v); err != nil {
			return r, fmt.Sprintf("%s %q: %v", t.name, clip(v), err)
		}
	}
	if prep := r.Prep(); prep < 0 || prep > MaxPrep {
		return r, fmt.Sprintf("ready_at is %s after accepted_at, outside 0..%s", prep, MaxPrep)
	}
	if r.Items, err = optInt(field(rec, col, "items")); err != nil {
		return r, "items: " + err.Error()
	}
	if r.Distinct, err = optInt(field(rec, col, "distinct_items")); err != nil {
		return r, "distinct_items: " + err.Error()
	}
	if r.SKUs, err = parseSKUs(field(rec, col, "skus")); err != nil {
		return r, "skus: " + err.Error()
	}
	r.Station = field(rec, col, "station")
	if len(r.Station) > wire.MaxTextLen {
		return r, "station is too long"
	}
	if r.Category = field(rec, col, "category"); r.Category != "" && !wire.ValidToken(r.Category) {
		return r, fmt.Sprintf("category %q is not a token", clip(r.Category))
	}
	if r.City = field(rec, col, "city"); r.City != "" && !wire.ValidToken(r.City) {
		return r, fmt.Sprintf("city %q is not a token", clip(r.City))
	}
	if v := field(rec, col, "subtotal"); v != "" {
		if r.Subtotal, err = strconv.ParseFloat(v, 64); err != nil || r.Subtotal < 0 || r.Subtotal != r.Subtotal {
			return r, fmt.Sprintf("subtotal %q is not a non-negative number", clip(v))
		}
	}
	return r, ""
}

// parseTime accepts RFC 3339 or unix seconds (fractions allowed).
func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != f || f < 0 || f > 1e11 {
		return time.Time{}, errors.New("neither RFC 3339 nor unix seconds")
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
}

func optInt(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > wire.MaxItems*wire.MaxQty {
		return 0, fmt.Errorf("%q is not a count", clip(v))
	}
	return n, nil
}

// parseSKUs parses "sku*qty;sku*qty"; a missing "*qty" means 1 and a SKU
// listed twice is merged.
func parseSKUs(v string) ([]SKUQty, error) {
	if v == "" {
		return nil, nil
	}
	parts := strings.Split(v, ";")
	if len(parts) > wire.MaxItems {
		return nil, fmt.Errorf("%d lines, limit %d", len(parts), wire.MaxItems)
	}
	out := make([]SKUQty, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		sku, qty, found := strings.Cut(p, "*")
		n := 1
		if found {
			var err error
			if n, err = strconv.Atoi(strings.TrimSpace(qty)); err != nil || n < 1 || n > wire.MaxQty {
				return nil, fmt.Errorf("quantity in %q is not 1-%d", clip(p), wire.MaxQty)
			}
		}
		if sku = strings.TrimSpace(sku); sku == "" || len(sku) > wire.MaxTextLen {
			return nil, fmt.Errorf("empty or long sku in %q", clip(p))
		}
		out = addSKU(out, sku, n)
	}
	return out, nil
}

// addSKU adds qty of sku, merging a SKU listed twice as the live agent does.
func addSKU(out []SKUQty, sku string, qty int) []SKUQty {
	for i := range out {
		if out[i].SKU == sku {
			out[i].Qty += qty
			return out
		}
	}
	return append(out, SKUQty{SKU: sku, Qty: qty})
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
