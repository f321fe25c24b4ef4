package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/passline/passline/cloud/template"
	"github.com/passline/passline/wire"
)

// Assignments serves POST /v1/assignments: a strict wire.Assignment JSON
// body (400 naming the field), refused with 403 when the token may not
// touch the assignment's store, then assign (the relay's) → 204, or 503
// when it fails. Mount it behind Auth.Require and
// RequireScope(assignments:write).
func Assignments(assign func(ctx context.Context, a wire.Assignment) error, log *slog.Logger) http.Handler {
	log = orDefault(log)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a wire.Assignment
		if e := Decode(w, r, &a, wire.MaxPayload); e != nil {
			WriteError(w, e)
			return
		}
		if a.V != wire.Version {
			WriteError(w, &Error{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: "v", Message: "v must be 1"})
			return
		}
		c, ok := ClaimsFrom(r.Context())
		if !ok || !c.CanStore(a.Store) {
			WriteError(w, Errorf(http.StatusForbidden, CodeForbidden, "this client may not assign riders for store %q", a.Store))
			return
		}
		if err := assign(r.Context(), a); err != nil {
			log.Error("store assignment", "store", a.Store, "order", a.OrderID, "err", err)
			WriteError(w, Errorf(http.StatusServiceUnavailable, CodeInternal, "could not store the assignment; retry"))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// Order serves GET /v1/stores/{store}/orders/{order} with get (the relay's
// order view): 200 with the view, 404 when unknown, 503 when get fails.
// Mount it behind Require, RequireScope(orders:read) and
// RequireStore("store").
func Order(get func(ctx context.Context, store, order string) (view any, found bool, err error), log *slog.Logger) http.Handler {
	log = orDefault(log)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		store, order := r.PathValue("store"), r.PathValue("order")
		if e := checkToken("store", store); e != nil {
			WriteError(w, e)
			return
		}
		if e := checkToken("order", order); e != nil {
			WriteError(w, e)
			return
		}
		v, found, err := get(r.Context(), store, order)
		switch {
		case err != nil:
			log.Error("get order", "store", store, "order", order, "err", err)
			WriteError(w, Errorf(http.StatusServiceUnavailable, CodeInternal, "order view unavailable; retry"))
		case !found:
			WriteError(w, Errorf(http.StatusNotFound, CodeNotFound, "no order %q at store %q (orders are kept 24 h)", order, store))
		default:
			WriteJSON(w, http.StatusOK, v)
		}
	})
}

// TemplatePutter stores a merchant template, refusing one that does not
// compile with a *template.ParseError.
type TemplatePutter interface {
	PutTemplate(ctx context.Context, k template.Key, src string) (version uint64, err error)
}

// Template serves PUT /v1/merchants/{merchant}/templates/{kind}/{locale}:
// the body is the template text (at most template.MaxLen bytes). A
// template that does not compile gets 400 with field "body" and the line
// in the message. Mount it behind Require, RequireScope(templates:write)
// and RequireMerchant("merchant").
func Template(t TemplatePutter, log *slog.Logger) http.Handler {
	log = orDefault(log)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := template.Key{Merchant: r.PathValue("merchant"), Kind: wire.DecisionKind(r.PathValue("kind")), Locale: r.PathValue("locale")}
		if err := k.Validate(); err != nil {
			WriteError(w, Errorf(http.StatusBadRequest, CodeInvalidField, "%v", err))
			return
		}
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, template.MaxLen))
		if err != nil {
			WriteError(w, &Error{Status: http.StatusBadRequest, Code: CodeBodyTooLarge, Field: "body", Message: "template is longer than 2048 bytes; shorten it"})
			return
		}
		version, err := t.PutTemplate(r.Context(), k, string(b))
		var pe *template.ParseError
		switch {
		case errors.As(err, &pe):
			WriteError(w, &Error{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: "body", Message: pe.Error()})
		case err != nil:
			log.Error("put template", "key", k.String(), "err", err)
			WriteError(w, Errorf(http.StatusServiceUnavailable, CodeInternal, "could not store the template; retry"))
		default:
			WriteJSON(w, http.StatusOK, map[string]any{"key": k.String(), "version": version})
		}
	})
}

// checkToken is nil when v, the path parameter field, is a wire token, and
// otherwise the 400 naming field.
func checkToken(field, v string) *Error {
	if wire.ValidToken(v) {
		return nil
	}
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: field, Message: field + " must be 1-64 characters of A-Z a-z 0-9 _ -"}
}

func orDefault(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.Default()
	}
	return l
}
