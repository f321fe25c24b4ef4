// Package httpapi is the relay's one HTTP API, served by production and
// by the demo (Routes.Insecure switches authentication off): the JSON
// error body, a strict JSON body decoder, middleware for bearer-token
// authentication, scopes, tenant (store, merchant, rider) checks, body size
// limits and panics, the handlers that need only a function of the relay
// (Assignments, Order, Template), the config center (PutStoreConfig,
// StoreConfigStatus over the StoreConfigs it declares), the rider SSE
// stream over JetStream (RiderEvents), and Routes, which mounts all of it
// with the right guards on each route. It creates no stream or bucket:
// natsjs owns them and implements the interfaces declared here.
package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// Error codes. Stable strings clients may switch on.
const (
	CodeBodyTooLarge   = "body_too_large"
	CodeEmptyBody      = "empty_body"
	CodeMalformedJSON  = "malformed_json"
	CodeUnknownField   = "unknown_field"
	CodeWrongType      = "wrong_type"
	CodeInvalidField   = "invalid_field"
	CodeUnsupportedMT  = "unsupported_media_type"
	CodeUnauthorized   = "unauthorized"
	CodeForbidden      = "forbidden"
	CodeRateLimited    = "rate_limited"
	CodeNotFound       = "not_found" // the resource does not exist
	CodeNoRoute        = "no_route"  // no such route: see /openapi.yaml
	CodeInternal       = "internal"
	CodeMethodNotAllow = "method_not_allowed"
)

// Error is an API error. It is written as
// {"error":{"code":"...","message":"what to fix","field":"..."}} with
// status Status; field is present when one field is at fault.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// Error says the status, code, field and message.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%d %s: field %q: %s", e.Status, e.Code, e.Field, e.Message)
	}
	return fmt.Sprintf("%d %s: %s", e.Status, e.Code, e.Message)
}

// Errorf returns an *Error with a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// WriteError writes e as the JSON error body with its status.
func WriteError(w http.ResponseWriter, e *Error) {
	WriteJSON(w, e.Status, struct {
		Error *Error `json:"error"`
	}{e})
}

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// NoRoute answers every unrouted request with a JSON 404 whose code is
// no_route; mount it at "/".
func NoRoute(w http.ResponseWriter, r *http.Request) {
	WriteError(w, Errorf(http.StatusNotFound, CodeNoRoute, "no route %s %s; see /openapi.yaml", r.Method, r.URL.Path))
}
