package escpos_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/firmware-bridge/escpos"
	"github.com/passline/passline/wire"
)

var printedAt = time.Date(2026, 11, 23, 12, 20, 0, 0, time.UTC)

func TestExtractEnglish(t *testing.T) {
	text := decodeAll(mustCodePage(t, "cp437"), readTestdata(t, "english.bin"))[0]
	got, ok := mustExtractor(t).Extract(text, printedAt)
	if !ok {
		t.Fatalf("not parsed:\n%s", text)
	}
	promised := time.Date(2026, 11, 23, 12, 45, 0, 0, time.UTC)
	want := wire.Ticket{
		OrderID: "UE-10442", ShortCode: "#23", Channel: "ubereats", PromisedAt: &promised,
		Items: []wire.Item{
			{SKU: "Cheeseburger", Name: "Cheeseburger", Qty: 2},
			{SKU: "Fries", Name: "Fries", Qty: 1},
			{SKU: "Café Latte", Name: "Café Latte", Qty: 3},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %+v\nwant %+v", got, want)
	}
}

func TestExtractChinese(t *testing.T) {
	text := decodeAll(mustCodePage(t, "gb18030"), readTestdata(t, "chinese_gb18030.bin"))[0]
	got, ok := mustExtractor(t).Extract(text, time.Date(2026, 11, 23, 18, 55, 0, 0, time.UTC))
	if !ok {
		t.Fatalf("not parsed:\n%s", text)
	}
	if got.OrderID != "MT2026-88123" || got.ShortCode != "#17" || got.Channel != "meituan" {
		t.Fatalf("ticket %+v", got)
	}
	want := []wire.Item{
		{SKU: "KP01", Name: "宫保鸡丁", Qty: 2, Station: "wok"},
		{SKU: "FR02", Name: "蛋炒饭", Qty: 1, Station: "wok"},
		{SKU: "𠮷野家特饮", Name: "𠮷野家特饮", Qty: 1},
	}
	if !reflect.DeepEqual(got.Items, want) {
		t.Fatalf("items %+v", got.Items)
	}
	if got.PromisedAt == nil || got.PromisedAt.Format("2006-01-02 15:04") != "2026-11-23 19:30" {
		t.Fatalf("promised %v", got.PromisedAt)
	}
}

func TestExtractEdgeCases(t *testing.T) {
	x := mustExtractor(t)
	for name, tc := range map[string]struct {
		text   string
		now    time.Time
		ok     bool
		id     string
		prom   string
		nItems int
	}{
		"no order id":            {"Thank you!\n1 x Fries  3.00\n", printedAt, false, "", "", 0},
		"odd order id chars":     {"Order #: A/B 7\n", printedAt, true, "A", "", 0},
		"promise after midnight": {"Order No: X1\nReady by: 00:10\n", time.Date(2026, 11, 23, 23, 50, 0, 0, time.UTC), true, "X1", "2026-11-24 00:10", 0},
		"promise before noon":    {"Order No: X1\nReady by: 23:55\n", time.Date(2026, 11, 24, 0, 5, 0, 0, time.UTC), true, "X1", "2026-11-23 23:55", 0},
		"bad promise ignored":    {"Order No: X1\nReady by: 99:99\n", printedAt, true, "X1", "", 0},
		"absurd qty skipped":     {"Order No: X1\n0 x Air  1.00\n5000 x Rice  1.00\n2 x Tea  1.00\n", printedAt, true, "X1", "", 1},
	} {
		t.Run(name, func(t *testing.T) {
			got, ok := x.Extract(tc.text, tc.now)
			if ok != tc.ok || got.OrderID != tc.id || len(got.Items) != tc.nItems {
				t.Fatalf("ok %v ticket %+v", ok, got)
			}
			prom := ""
			if got.PromisedAt != nil {
				prom = got.PromisedAt.Format("2006-01-02 15:04")
			}
			if prom != tc.prom {
				t.Fatalf("promised %q want %q", prom, tc.prom)
			}
		})
	}
}

func TestNewExtractorNamesBadField(t *testing.T) {
	for _, tc := range []struct {
		p    escpos.Pattern
		want string
	}{
		{escpos.Pattern{}, "patterns[0].order_id"},
		{escpos.Pattern{OrderID: "("}, "patterns[0].order_id"},
		{escpos.Pattern{OrderID: "x", Item: `(\d+)`}, "patterns[0].item"},
		{escpos.Pattern{OrderID: "x", PromisedAt: `(\d+)`}, "patterns[0].time_layout"},
		{escpos.Pattern{OrderID: "x", Match: "["}, "patterns[0].match"},
	} {
		if _, err := escpos.NewExtractor([]escpos.Pattern{tc.p}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming %s", tc.p, err, tc.want)
		}
	}
}

// FuzzExtract: any text either fails to parse or yields a ticket the wire
// contract accepts.
func FuzzExtract(f *testing.F) {
	f.Add(decodeAll(mustCodePage(f, "cp437"), readTestdata(f, "english.bin"))[0])
	f.Add(decodeAll(mustCodePage(f, "gb18030"), readTestdata(f, "chinese_gb18030.bin"))[0])
	f.Add("Order No: " + strings.Repeat("9", 200) + "\n999 x " + strings.Repeat("é", 300) + "  1.00\n")
	f.Add("美团 订单号: \xff\xfe\n")
	x := mustExtractor(f)
	f.Fuzz(func(t *testing.T, text string) {
		ticket, ok := x.Extract(text, printedAt)
		if !ok {
			return
		}
		ev := wire.Event{ID: "e1", Kind: wire.EventTicket, Store: "s1", DeviceID: "printer-1", At: time.Now(), Ticket: &ticket}
		if err := ev.Validate(); err != nil {
			t.Fatalf("extracted ticket is invalid: %v\n%+v", err, ticket)
		}
	})
}
