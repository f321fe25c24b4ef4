package escpos_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/passline/passline/firmware-bridge/escpos"
)

// testPatterns are the patterns of configs/bridge.yaml.
var testPatterns = []escpos.Pattern{
	{
		Name: "meituan", Match: `美团`, Channel: "meituan",
		OrderID: `订单号[:：]\s*([0-9A-Za-z-]+)`, ShortCode: `(#\d+)`,
		Item:       `(?m)^(?P<name>\S.*?)\s+[x×*](?P<qty>\d+)`,
		PromisedAt: `送达时间[:：]\s*(\d{1,2}:\d{2})`, TimeLayout: "15:04",
		SKUs:     map[string]string{"宫保鸡丁": "KP01", "蛋炒饭": "FR02"},
		Stations: map[string]string{"KP01": "wok", "FR02": "wok"},
	},
	{
		Name: "pos-english", Channel: "ubereats",
		OrderID: `Order\s*(?:No\.?|#|ID)[:\s]*([0-9A-Za-z-]+)`, ShortCode: `Pickup\s*(#\d+)`,
		Item:       `(?m)^\s*(?P<qty>\d+)\s*x\s+(?P<name>\S.*?)\s{2,}\D{0,3}[\d.]+\s*$`,
		PromisedAt: `Ready by[:\s]*(\d{1,2}:\d{2})`, TimeLayout: "15:04",
	},
}

func mustExtractor(tb testing.TB) *escpos.Extractor {
	tb.Helper()
	x, err := escpos.NewExtractor(testPatterns)
	if err != nil {
		tb.Fatal(err)
	}
	return x
}

func readTestdata(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func mustCodePage(tb testing.TB, name string) escpos.CodePage {
	tb.Helper()
	cp, err := escpos.LookupCodePage(name)
	if err != nil {
		tb.Fatal(err)
	}
	return cp
}
