package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/passline/passline/wire"
)

// MaxBody is the default body limit of Decode, in bytes.
const MaxBody = 64 << 10

// Decode reads r's JSON body into v and validates it. It refuses, with a
// 400 *Error naming the field where there is one: a body over limit bytes
// (MaxBody when limit <= 0), an empty body, a Content-Type other than
// application/json (415), invalid JSON, unknown fields, values of the wrong
// type, trailing data, and a v whose Validate method fails. A *wire.Error
// or *Error returned by Validate keeps its field.
func Decode(w http.ResponseWriter, r *http.Request, v any, limit int64) *Error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if mt, _, _ := mime.ParseMediaType(ct); mt != "application/json" {
			return Errorf(http.StatusUnsupportedMediaType, CodeUnsupportedMT, "Content-Type is %q; send application/json", ct)
		}
	}
	if limit <= 0 {
		limit = MaxBody
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return Errorf(http.StatusBadRequest, CodeBodyTooLarge, "body is larger than %d bytes; send less", mbe.Limit)
		}
		return Errorf(http.StatusBadRequest, CodeMalformedJSON, "reading body: %v", err)
	}
	return DecodeBytes(b, v)
}

// DecodeBytes is Decode's parsing and validation, for a body already read.
func DecodeBytes(b []byte, v any) *Error {
	if len(bytes.TrimSpace(b)) == 0 {
		return Errorf(http.StatusBadRequest, CodeEmptyBody, "body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return Errorf(http.StatusBadRequest, CodeMalformedJSON, "trailing data after the JSON value; send exactly one object")
	}
	if val, ok := v.(interface{ Validate() error }); ok {
		if err := val.Validate(); err != nil {
			return validationError(err)
		}
	}
	return nil
}

func jsonError(err error) *Error {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			return Errorf(http.StatusBadRequest, CodeWrongType, "body is a JSON %s; send a JSON object", te.Value)
		}
		e := Errorf(http.StatusBadRequest, CodeWrongType, "%s is a JSON %s; send a %s", field, te.Value, jsonKind(te.Type.Kind().String()))
		e.Field = field
		return e
	case errors.As(err, &se):
		return Errorf(http.StatusBadRequest, CodeMalformedJSON, "invalid JSON at byte %d: %v", se.Offset, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(http.StatusBadRequest, CodeMalformedJSON, "JSON ends early; send a complete object")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		e := Errorf(http.StatusBadRequest, CodeUnknownField, "unknown field %q; remove it or check its spelling", name)
		e.Field = name
		return e
	}
	return Errorf(http.StatusBadRequest, CodeMalformedJSON, "%v", err)
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(k string) string {
	switch {
	case strings.HasPrefix(k, "int"), strings.HasPrefix(k, "uint"), strings.HasPrefix(k, "float"):
		return "number"
	case k == "struct", k == "map":
		return "object"
	case k == "slice", k == "array":
		return "array"
	case k == "bool":
		return "boolean"
	}
	return k
}

func validationError(err error) *Error {
	var ae *Error
	if errors.As(err, &ae) {
		return ae
	}
	e := Errorf(http.StatusBadRequest, CodeInvalidField, "%v", err)
	var we *wire.Error
	if errors.As(err, &we) {
		e.Field, e.Message = we.Field, we.Msg
	}
	return e
}
