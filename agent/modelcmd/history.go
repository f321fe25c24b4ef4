package modelcmd

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/passline/passline/agent/predict"
	"github.com/passline/passline/wire"
)

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
	SKUs       []predict.SKUQty
	Station    string
	Subtotal   float64
	Category   string // the store's category tag (cuisine); may be empty
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
	if prep := r.Prep(); prep < 0 || prep > predict.MaxPrep {
		return r, fmt.Sprintf("ready_at is %s after accepted_at, outside 0..%s", prep, predict.MaxPrep)
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
func parseSKUs(v string) ([]predict.SKUQty, error) {
	if v == "" {
		return nil, nil
	}
	parts := strings.Split(v, ";")
	if len(parts) > wire.MaxItems {
		return nil, fmt.Errorf("%d lines, limit %d", len(parts), wire.MaxItems)
	}
	out := make([]predict.SKUQty, 0, len(parts))
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
func addSKU(out []predict.SKUQty, sku string, qty int) []predict.SKUQty {
	for i := range out {
		if out[i].SKU == sku {
			out[i].Qty += qty
			return out
		}
	}
	return append(out, predict.SKUQty{SKU: sku, Qty: qty})
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
