package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// MaxKPISpan is the longest from–to range KPIs answers.
const MaxKPISpan = 31 * 24 * time.Hour

// KPIs serves GET /v1/stores/{store}/kpis?from=&to= (RFC 3339 times; from
// defaults to the start of today UTC, to to now) with get, which returns
// the store's readiness KPIs over the span and per hour (cloud/kpi). A
// span longer than MaxKPISpan, or to not after from, is a 400 naming the
// parameter; 503 when get fails. Mount it behind Require,
// RequireScope(orders:read) and RequireStore("store").
func KPIs(get func(ctx context.Context, store string, from, to time.Time) (any, error), now func() time.Time, log *slog.Logger) http.Handler {
	log = orDefault(log)
	if now == nil {
		now = time.Now
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		store := r.PathValue("store")
		if e := checkToken("store", store); e != nil {
			WriteError(w, e)
			return
		}
		t := now().UTC()
		from, e := timeParam(r, "from", t.Truncate(24*time.Hour))
		if e != nil {
			WriteError(w, e)
			return
		}
		to, e := timeParam(r, "to", t)
		if e != nil {
			WriteError(w, e)
			return
		}
		if !to.After(from) || to.Sub(from) > MaxKPISpan {
			WriteError(w, fieldError("to", fmt.Sprintf("must be after from and at most %s later", MaxKPISpan)))
			return
		}
		v, err := get(r.Context(), store, from, to)
		if err != nil {
			log.Error("get kpis", "store", store, "err", err)
			WriteError(w, Errorf(http.StatusServiceUnavailable, CodeInternal, "kpis unavailable; retry"))
			return
		}
		WriteJSON(w, http.StatusOK, v)
	})
}

func timeParam(r *http.Request, name string, def time.Time) (time.Time, *Error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fieldError(name, "must be an RFC 3339 time such as 2026-12-04T09:00:00Z")
	}
	return t.UTC(), nil
}

// fieldError is the 400 naming a bad query parameter.
func fieldError(field, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: field, Message: field + " " + msg}
}
