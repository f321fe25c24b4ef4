package wire

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// scanAgrees checks that when scanDecision takes b, encoding/json takes it
// too and decodes the same decision.
func scanAgrees(t *testing.T, b []byte) bool {
	t.Helper()
	var fast, slow Decision
	if !scanDecision(b, &fast) {
		return false
	}
	if err := json.Unmarshal(b, &slow); err != nil {
		t.Fatalf("fast path took %q, encoding/json refuses it: %v", b, err)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("fast path and encoding/json differ on %q:\n%+v\n%+v", b, fast, slow)
	}
	return true
}

func TestScanDecisionAgreesWithEncodingJSON(t *testing.T) {
	now := time.Date(2026, 12, 4, 16, 0, 0, 123456789, time.UTC)
	eta := now.Add(5 * time.Minute)
	full, err := Decision{ID: "s1.o1.ready.1", Store: "s1", OrderID: "o-1", ShortCode: "A12", Kind: KindReady, Rule: "bump",
		EventID: "e1", CreatedAt: now, ExpiresAt: now.Add(time.Hour), AcceptedAt: now.Add(-time.Minute), ETA: &eta,
		Probability: 0.25, Replayed: true, TraceID: "0af7651916cd43dd8448eb211c80319c",
		Traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", Flags: []string{FlagEarlyReady, FlagCookStart},
		Seq: 7, Order: &OrderFacts{Items: 3, Distinct: 2, Subtotal: 23.5, Station: "grill", Category: "burgers", City: "sh"}}.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	minimal, _ := Decision{ID: "d", Store: "s", OrderID: "o", Kind: KindETA, CreatedAt: now, ExpiresAt: now.Add(time.Minute)}.Marshal()
	for _, b := range [][]byte{full, minimal} {
		if !scanAgrees(t, b) {
			t.Fatalf("fast path refused what Marshal writes: %s", b)
		}
	}
	took := []string{
		` { "v" : 1 , "flags" : [ ] , "eta" : null , "order" : null } `,
		`{"order":{"items":1},"order":{"city":"x"}}`,
		`{"flags":["a"],"flags":null}`,
		`{"probability":-0.5e-3,"seq":0,"v":-0}`,
		`{}`,
	}
	for _, s := range took {
		if !scanAgrees(t, []byte(s)) {
			t.Errorf("fast path refused %s", s)
		}
	}
	// Left to encoding/json: escapes, non-ASCII, other cases of a key,
	// unknown keys, nulls that keep a field, numbers that do not fit.
	left := []string{
		`{"id":"a\"b"}`, `{"id":"caf` + "\u00e9" + `"}`, `{"ID":"x"}`, `{"what":1}`, `{"id":null}`, `{"v":1.0}`,
		`{"seq":-1}`, `{"v":01}`, `{"v":1}x`, `{"v":1,}`, `{"created_at":"yesterday"}`, `{"replayed":null}`, `[]`, ``,
		`{"v":1e400}`, `{"probability":1e400}`,
	}
	for _, s := range left {
		if scanAgrees(t, []byte(s)) {
			t.Errorf("fast path took %s", s)
		}
	}
}

func FuzzScanDecision(f *testing.F) {
	now := time.Now()
	b, _ := Decision{ID: "d", Store: "s", OrderID: "o", Kind: KindETA, CreatedAt: now, ExpiresAt: now.Add(time.Minute), Flags: []string{"x"}, Seq: 3,
		Order: &OrderFacts{Items: 2, Subtotal: 1.5}}.Marshal()
	f.Add(b)
	f.Add([]byte(`{"v":1,"kind":"ready","eta":null,"probability":0.5,"replayed":false}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		scanAgrees(t, b)
	})
}
