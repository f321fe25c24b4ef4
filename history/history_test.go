package history_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/history"
)

func TestReadHistoryRowsAndBadRows(t *testing.T) {
	in := "store_id,order_id,accepted_at,ready_at,items,skus,category,subtotal\n" +
		"s1,o1,2026-03-02T12:00:00+08:00,2026-03-02T12:09:00+08:00,2,a*1;b,thai,18.5\n" +
		"s1,o1,2026-03-02T12:00:00+08:00,2026-03-02T12:09:00+08:00,2,,thai,\n" + // duplicate
		"s1,o2,2026-03-02T11:00:00+08:00,2026-03-02T10:59:00+08:00,1,,,\n" + // ready before accept
		"s2,o3,2026-03-02T11:30:00+08:00,2026-03-02T11:36:00+08:00,1,,,\n"
	h, err := history.ReadHistory(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Rows) != 2 || h.BadRows != 2 {
		t.Fatalf("rows %d bad %d (%v), want 2 and 2", len(h.Rows), h.BadRows, h.Bad)
	}
	if h.Rows[0].OrderID != "o3" || h.Rows[1].Prep() != 9*time.Minute {
		t.Errorf("rows not in accept order or prep wrong: %+v", h.Rows)
	}
	r := h.Rows[1]
	if r.Category != "thai" || r.Subtotal != 18.5 || len(r.SKUs) != 2 || r.SKUs[0] != (history.SKUQty{SKU: "a", Qty: 1}) {
		t.Errorf("row fields: %+v", r)
	}
}

func FuzzReadHistory(f *testing.F) {
	f.Add([]byte("store_id,order_id,accepted_at,ready_at\ns,o,1,2\n"))
	f.Add([]byte("\x1f\x8b\x08"))
	f.Add([]byte("store_id,order_id,accepted_at,ready_at,skus\ns,o,1,100,a*1;;b*999999\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := history.ReadHistory(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, r := range h.Rows {
			if r.Prep() < 0 || r.Prep() > history.MaxPrep || r.Store == "" {
				t.Fatalf("accepted bad row %+v", r)
			}
		}
	})
}
