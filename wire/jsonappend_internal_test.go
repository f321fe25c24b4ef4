package wire

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// sameAsJSON fails unless appendJSON writes what json.Marshal writes.
func sameAsJSON(t *testing.T, n Notification) {
	t.Helper()
	want, err := json.Marshal(&n)
	got, ok := n.appendJSON(nil)
	if err != nil {
		if ok {
			t.Fatalf("json.Marshal fails (%v) but appendJSON wrote %s", err, got)
		}
		return
	}
	if !ok || !bytes.Equal(got, want) {
		t.Fatalf("appendJSON (ok %v):\n%s\njson.Marshal:\n%s", ok, got, want)
	}
}

// TestNotificationAppendJSON: the hand-written encoder writes the bytes
// json.Marshal writes, for every field set and unset and for strings that
// need escaping.
func TestNotificationAppendJSON(t *testing.T) {
	eta := time.Date(2026, 12, 4, 16, 20, 1, 123456789, time.FixedZone("x", 8*3600))
	m := 7
	full := Notification{V: Version, ID: "s1.o1.ready.1", Rider: "r1", Store: "s1", StoreName: "Café <Nord> & \"Süd\"", OrderID: "o1",
		ShortCode: "A12", Kind: KindReady, EventID: "ev", Locale: "zh-CN", Text: "取餐 \u2028 \u2029 \x00\x01\x1f\x7f \b\f\n\r\t \\ / \xff\xfe 😀",
		Minutes: &m, ETA: &eta, Shelf: "B", DecidedAt: eta.UTC(), SentAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Replayed: true, TraceID: "t", Version: 42, Flags: []string{"early_ready", "<x>"}, Resent: true, Traceparent: "00-ab-cd-01"}
	sameAsJSON(t, full)
	sameAsJSON(t, Notification{})
	sameAsJSON(t, Notification{Flags: []string{}, Text: "plain"})
	neg := -3
	sameAsJSON(t, Notification{Minutes: &neg, SentAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	sameAsJSON(t, Notification{DecidedAt: time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)})
}

func FuzzNotificationAppendJSON(f *testing.F) {
	f.Add("s1.o1.ready.1", "Café <Nord>", "取餐 \u2028\x00\xff", int64(1733328000123456789), uint64(3), true)
	f.Add("", "", "", int64(0), uint64(0), false)
	f.Fuzz(func(t *testing.T, id, name, text string, nanos int64, version uint64, flag bool) {
		at := time.Unix(0, nanos).UTC()
		n := Notification{V: Version, ID: id, Rider: name, Store: text, StoreName: name, OrderID: id, Text: text,
			DecidedAt: at, SentAt: at.In(time.FixedZone("", -5*3600)), Version: version, Replayed: flag, Flags: []string{text}}
		if flag {
			n.ETA, n.Minutes = &at, new(int)
		}
		sameAsJSON(t, n)
	})
}

// BenchmarkNotificationMarshal: the relay's encoder against json.Marshal
// of the same notification.
func BenchmarkNotificationMarshal(b *testing.B) {
	at := time.Date(2026, 12, 4, 16, 20, 1, 123456789, time.UTC)
	m := 4
	n := Notification{ID: "s1.o1.ready.1", Rider: "r1", Store: "s1", StoreName: "s1", OrderID: "o1", ShortCode: "A12",
		Kind: KindReady, EventID: "ev-1", Locale: "zh-CN", Text: "您的订单 A12 已备好，请到 B 号架取餐", Minutes: &m, ETA: &at,
		DecidedAt: at, SentAt: at, Version: 3}
	b.Run("json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			n.V = Version
			if err := n.Validate(); err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(&n); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("append", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := n.Marshal(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestAppendJSONFloat: floats as json.Marshal writes them.
func TestAppendJSONFloat(t *testing.T) {
	for _, f := range []float64{0, 1, 0.85, 1.0 / 3, 1e-7, -2.5e-9, 1e21, 123456789.125, -0.0000012, 1e-300} {
		want, _ := json.Marshal(f)
		got, ok := AppendJSONFloat(nil, f)
		if !ok || string(got) != string(want) {
			t.Errorf("%v: %s, want %s", f, got, want)
		}
	}
}
