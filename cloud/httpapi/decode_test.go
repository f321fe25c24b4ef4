package httpapi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/passline/passline/cloud/httpapi"
	"github.com/passline/passline/cloud/httpapi/httpapitest"
	"github.com/passline/passline/wire"
)

// sample is a body with nested fields and a Validate method.
type sample struct {
	Name  string            `json:"name"`
	Count int               `json:"count"`
	Tags  []string          `json:"tags,omitempty"`
	Inner *struct{ N int }  `json:"inner,omitempty"`
	Meta  map[string]string `json:"meta,omitempty"`
}

func (s *sample) Validate() error {
	if s.Count < 0 {
		return &httpapi.Error{Status: 400, Code: httpapi.CodeInvalidField, Field: "count", Message: "count must be >= 0"}
	}
	return nil
}

func TestDecode(t *testing.T) {
	tests := []struct {
		name   string
		body   string
		ctype  string
		status int
		code   string
		field  string
	}{
		{"ok", `{"name":"a","count":2,"tags":["x"]}`, "application/json", 0, "", ""},
		{"ok without content type", `{"name":"a"}`, "", 0, "", ""},
		{"ok with charset", `{"name":"a"}`, "application/json; charset=utf-8", 0, "", ""},
		{"too large", `{"name":"` + strings.Repeat("x", 2000) + `"}`, "application/json", 400, httpapi.CodeBodyTooLarge, ""},
		{"empty", ``, "application/json", 400, httpapi.CodeEmptyBody, ""},
		{"unknown field", `{"name":"a","colour":"red"}`, "", 400, httpapi.CodeUnknownField, "colour"},
		{"wrong type", `{"count":"two"}`, "", 400, httpapi.CodeWrongType, "count"},
		{"nested wrong type", `{"inner":{"N":"x"}}`, "", 400, httpapi.CodeWrongType, "inner.N"},
		{"array element wrong", `{"tags":[1]}`, "", 400, httpapi.CodeWrongType, "tags"},
		{"not an object", `[1,2]`, "", 400, httpapi.CodeWrongType, ""},
		{"syntax", `{"name":}`, "", 400, httpapi.CodeMalformedJSON, ""},
		{"truncated", `{"name":"a"`, "", 400, httpapi.CodeMalformedJSON, ""},
		{"trailing", `{"name":"a"} {"name":"b"}`, "", 400, httpapi.CodeMalformedJSON, ""},
		{"validate", `{"count":-1}`, "", 400, httpapi.CodeInvalidField, "count"},
		{"form", `name=a`, "application/x-www-form-urlencoded", 415, httpapi.CodeUnsupportedMT, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(tt.body))
			if tt.ctype != "" {
				r.Header.Set("Content-Type", tt.ctype)
			}
			var v sample
			e := httpapi.Decode(httptest.NewRecorder(), r, &v, 1024)
			if tt.status == 0 {
				if e != nil {
					t.Fatalf("Decode: %v", e)
				}
				return
			}
			if e == nil || e.Status != tt.status || e.Code != tt.code || e.Field != tt.field {
				t.Fatalf("Decode = %+v, want %d %s field %q", e, tt.status, tt.code, tt.field)
			}
		})
	}
}

func TestDecodeWireValidation(t *testing.T) {
	body := `{"v":1,"store":"s1","order_id":"o1","rider":"bad rider!","at":"2026-11-24T09:00:00Z"}`
	var a wire.Assignment
	e := httpapi.DecodeBytes([]byte(body), &a)
	if e == nil || e.Code != httpapi.CodeInvalidField || e.Field != "rider" {
		t.Fatalf("Decode = %+v, want invalid_field rider", e)
	}
}

func TestWriteErrorShape(t *testing.T) {
	rec := httptest.NewRecorder()
	httpapi.WriteError(rec, &httpapi.Error{Status: 400, Code: httpapi.CodeUnknownField, Field: "x", Message: "remove x"})
	var got struct {
		Error struct{ Code, Message, Field string } `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 400 || got.Error.Code != "unknown_field" || got.Error.Message != "remove x" || got.Error.Field != "x" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("Content-Type") != "application/json" {
		t.Fatal("content type")
	}
}

func FuzzDecodeSample(f *testing.F) {
	httpapitest.FuzzBody(f, func() any { return new(sample) },
		[]byte(`{"name":"a","count":2,"tags":["x"],"inner":{"N":1},"meta":{"k":"v"}}`),
		[]byte(`{"count":1e400}`), []byte(`{"name":"\ud800"}`))
}

// FuzzDecodeAssignment fuzzes the POST /v1/assignments body.
func FuzzDecodeAssignment(f *testing.F) {
	httpapitest.FuzzBody(f, func() any { return new(wire.Assignment) },
		[]byte(`{"v":1,"store":"s1","order_id":"o1","rider":"r1","travel_s":300,"locale":"zh-CN","at":"2026-11-24T09:00:00Z"}`),
		[]byte(`{"v":2,"store":"s1"}`), []byte(`{"v":1,"at":5}`))
}
