// Package httpapitest helps test handlers built on httpapi: a fuzz body
// for any request type decoded with httpapi.Decode.
package httpapitest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/passline/passline/cloud/httpapi"
)

// FuzzBody fuzzes httpapi.DecodeBytes into values made by newV, starting
// from seeds. For every input: no panic; either success, after which the
// value re-encodes and decodes again, or a 400 *httpapi.Error with a code
// and a message, naming the field for unknown fields and wrong types
// inside an object.
//
//	func FuzzAssignment(f *testing.F) {
//		httpapitest.FuzzBody(f, func() any { return new(wire.Assignment) }, seed1, seed2)
//	}
func FuzzBody(f *testing.F, newV func() any, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"unknown_field_x":1}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"a":`))
	f.Fuzz(func(t *testing.T, body []byte) {
		CheckBody(t, newV, body)
	})
}

// CheckBody is FuzzBody's check of one body.
func CheckBody(t testing.TB, newV func() any, body []byte) {
	t.Helper()
	v := newV()
	e := httpapi.DecodeBytes(body, v)
	if e == nil {
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("accepted body does not re-encode: %v", err)
		}
		if e2 := httpapi.DecodeBytes(again, newV()); e2 != nil {
			t.Fatalf("accepted %q but refused its re-encoding %q: %v", body, again, e2)
		}
		return
	}
	if e.Status != http.StatusBadRequest || e.Code == "" || e.Message == "" {
		t.Fatalf("bad error for %q: %+v", body, e)
	}
	// A field named "" is a legal JSON key, so only the message is checked
	// for unknown fields; a wrong type inside an object must name its field.
	if e.Code == httpapi.CodeUnknownField && !strings.Contains(e.Message, "unknown field \"") {
		t.Fatalf("unknown field not named for %q: %+v", body, e)
	}
	if e.Code == httpapi.CodeWrongType && e.Field == "" && body[0] == '{' {
		t.Fatalf("wrong type without field for %q: %+v", body, e)
	}
}
