package sms_test

import (
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/passline/passline/cloud/sms"
)

func TestMeasure(t *testing.T) {
	r := strings.Repeat
	tests := []struct {
		name     string
		text     string
		enc      sms.Encoding
		units    int
		segments int
	}{
		{"empty", "", sms.GSM7, 0, 0},
		{"short ascii", "Order #23 ready", sms.GSM7, 15, 1},
		{"160 septets one part", r("a", 160), sms.GSM7, 160, 1},
		{"161 septets two parts", r("a", 161), sms.GSM7, 161, 2},
		{"306 septets two parts", r("a", 306), sms.GSM7, 306, 2},
		{"307 septets three parts", r("a", 307), sms.GSM7, 307, 3},
		{"euro costs two", r("€", 80), sms.GSM7, 160, 1},
		{"escape pair not split", r("a", 152) + "€" + r("a", 152), sms.GSM7, 306, 3},
		{"gsm accents stay gsm", "Café à Ñoño ü", sms.GSM7, 13, 1},
		{"acute u is not gsm", "Ñandú", sms.UCS2, 5, 1},
		{"one Han forces ucs2", "Order #23 好", sms.UCS2, 11, 1},
		{"70 Han one part", r("好", 70), sms.UCS2, 70, 1},
		{"71 Han two parts", r("好", 71), sms.UCS2, 71, 2},
		{"134 Han two parts", r("好", 134), sms.UCS2, 134, 2},
		{"135 Han three parts", r("好", 135), sms.UCS2, 135, 3},
		{"emoji is two units", r("🍜", 35), sms.UCS2, 70, 1},
		{"surrogate pair not split", r("好", 66) + "🍜" + r("好", 66), sms.UCS2, 134, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := sms.Measure(tt.text)
			want := sms.Count{Encoding: tt.enc, Units: tt.units, Segments: tt.segments}
			if got != want {
				t.Fatalf("Measure = %+v, want %+v", got, want)
			}
			if !sms.Fits(tt.text, tt.segments) || (tt.segments > 0 && sms.Fits(tt.text, tt.segments-1)) {
				t.Fatalf("Fits disagrees with %d segments", tt.segments)
			}
		})
	}
}

// FuzzMeasure checks Measure's invariants on arbitrary text.
func FuzzMeasure(f *testing.F) {
	f.Add("Order #23 ready in 4 min")
	f.Add("订单 #23 还有 4 分钟")
	f.Add("{[€]}^~|\\")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		c := sms.Measure(s)
		if (c.Units == 0) != (c.Segments == 0) {
			t.Fatalf("%+v: units and segments disagree on emptiness", c)
		}
		if c.Encoding == sms.UCS2 && c.Units != len(utf16.Encode([]rune(s))) {
			t.Fatalf("%+v: UCS-2 units are not UTF-16 length %d", c, len(utf16.Encode([]rune(s))))
		}
		size := sms.GSM7Multi
		if c.Encoding == sms.UCS2 {
			size = sms.UCS2Multi
		}
		if c.Segments > 1 && c.Segments*size < c.Units {
			t.Fatalf("%+v: segments cannot hold the units", c)
		}
	})
}
