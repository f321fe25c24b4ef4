// Package api is the relay's HTTP surface: rider assignments from the
// delivery platform, the order view, merchant templates, health and
// Prometheus metrics.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/passline/passline/cloud/template"
	"github.com/passline/passline/wire"
)

// Templates stores merchant templates, refusing one that does not compile.
type Templates interface {
	PutTemplate(ctx context.Context, k template.Key, src string) (uint64, error)
	GetTemplate(ctx context.Context, k template.Key) (src string, version uint64, ok bool, err error)
}

// Server serves the API. Every field must be set.
type Server struct {
	Assign    func(ctx context.Context, a wire.Assignment) error
	Order     func(ctx context.Context, store, order string) (any, bool, error)
	Templates Templates
	Health    func() error // nil when the relay can serve
	Gatherer  prometheus.Gatherer
	Log       *slog.Logger
}

// Handler routes:
//
//	POST /v1/assignments                                    wire.Assignment JSON → 204 once stored
//	GET  /v1/stores/{store}/orders/{order}                  latest status, ETA, probability
//	PUT  /v1/merchants/{merchant}/templates/{kind}/{locale} template text → 200 {"key":K,"version":N}, 400 {"line":L,"error":...}
//	GET  /v1/merchants/{merchant}/templates/{kind}/{locale} stored text and version
//	GET  /healthz, GET /metrics
//
// The paths are those of cloud/openapi; this handler has no authentication
// (for the demo and tests): production mounts cloud/httpapi's Routes over
// the same functions (see app.Main.HTTP).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/assignments", s.postAssignment)
	mux.HandleFunc("GET /v1/stores/{store}/orders/{order}", s.getOrder)
	mux.HandleFunc("PUT /v1/merchants/{merchant}/templates/{kind}/{locale}", s.putTemplate)
	mux.HandleFunc("GET /v1/merchants/{merchant}/templates/{kind}/{locale}", s.getTemplate)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Gatherer, promhttp.HandlerOpts{}))
	return mux
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if err := s.Health(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) postAssignment(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, wire.MaxPayload+1))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, err)
		return
	}
	a, err := wire.DecodeAssignment(b)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	if err := s.Assign(r.Context(), a); err != nil {
		s.Log.Error("store assignment", "store", a.Store, "order", a.OrderID, "err", err)
		writeError(w, http.StatusServiceUnavailable, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	store, order := r.PathValue("store"), r.PathValue("order")
	if !wire.ValidToken(store) || !wire.ValidToken(order) {
		writeError(w, http.StatusBadRequest, errors.New("store and order must be tokens"))
		return
	}
	v, ok, err := s.Order(r.Context(), store, order)
	switch {
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, err)
	case !ok:
		writeError(w, http.StatusNotFound, errors.New("no such order"))
	default:
		writeJSON(w, http.StatusOK, v)
	}
}

func templateKey(r *http.Request) (template.Key, error) {
	k := template.Key{Merchant: r.PathValue("merchant"), Kind: wire.DecisionKind(r.PathValue("kind")), Locale: r.PathValue("locale")}
	return k, k.Validate()
}

func (s *Server) putTemplate(w http.ResponseWriter, r *http.Request) {
	k, err := templateKey(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, template.MaxLen+1))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, err)
		return
	}
	version, err := s.Templates.PutTemplate(r.Context(), k, string(b))
	var pe *template.ParseError
	switch {
	case errors.As(err, &pe):
		writeJSON(w, http.StatusBadRequest, map[string]any{"line": pe.Line, "error": pe.Reason})
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, err)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"key": k.String(), "version": version})
	}
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request) {
	k, err := templateKey(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	src, version, ok, err := s.Templates.GetTemplate(r.Context(), k)
	switch {
	case err != nil:
		writeError(w, http.StatusServiceUnavailable, err)
	case !ok:
		writeError(w, http.StatusNotFound, errors.New("no merchant template; the default applies"))
	default:
		writeJSON(w, http.StatusOK, map[string]any{"key": k.String(), "version": version, "template": src})
	}
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
