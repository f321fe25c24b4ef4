// Package web serves the relay's pages: the operations page (stores
// online, decisions per second, deliveries by channel and outcome, dead
// letters, breaker states) and the rider page, which shows one rider's
// notifications live. Pages, styles and scripts are embedded; both pages
// are fed by Server-Sent Events.
//
// The rider page reads notifications from the rider's NATS subject
// (wire.RiderFilter) on the relay's own connection, through RiderFeed; it
// needs no other rider stream.
package web

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/passline/passline/internal/uplot"
	"github.com/passline/passline/wire"
)

//go:embed static
var static embed.FS

// Handler serves:
//
//	GET /                      redirect to /ops/
//	GET /ops/                  the operations page
//	GET /ops/summary.json      one Summary
//	GET /ops/events            SSE: event "summary" every OpsInterval, "series" when it changed
//	GET /ops/series.json       one Series (what the ops page plots)
//	GET /riders/{rider}/       the rider page
//	GET /riders/{rider}/events SSE: event "notification" per notification
//	GET /web/...               embedded styles and scripts
//	GET /web/uplot/...         the charting library (internal/uplot)
//
// Unknown paths fall through to Next (the API), when set.
type Handler struct {
	Gatherer prometheus.Gatherer // the relay's metrics registry
	Stores   *StoreTracker       // nil means stores are not shown
	Riders   RiderFeed
	Next     http.Handler
	// OpsInterval is how often the ops page is refreshed; 0 means 2 s.
	OpsInterval time.Duration
	// KPIs feeds the ops page's hourly plots; nil: only the live ones.
	KPIs KPISource
	// SampleEvery is how often Run samples the live series (0: 10 s),
	// KPIEvery how often it reads the hourly KPIs (0: 30 s), SeriesHours
	// how many hours the plots span (0: 6).
	SampleEvery, KPIEvery time.Duration
	SeriesHours           int
	// KeepAlive is how often an idle stream gets a comment; 0 means 15 s.
	KeepAlive time.Duration
	Log       *slog.Logger
	// RiderGuard, when set, wraps the rider page and its event stream, for
	// example auth.RequireStream(httpapi.RequireRider("rider", h)); the
	// page hands its own query string (access_token=...) to the stream.
	// OpsGuard wraps the ops page, summary and stream likewise. NIL LEAVES
	// THEM OPEN to anyone who reaches the listener: a rider's
	// notifications name the store and the order, the ops page every
	// store.
	RiderGuard, OpsGuard func(http.Handler) http.Handler

	once   sync.Once
	done   chan struct{}
	mux    *http.ServeMux
	ops    *opsSampler
	series *seriesKeeper
}

// ServeHTTP routes a request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.once.Do(h.init)
	h.mux.ServeHTTP(w, r)
}

// Close ends every open event stream and makes new ones end at once. Call
// it when the HTTP server shuts down (http.Server.RegisterOnShutdown).
func (h *Handler) Close() {
	h.once.Do(h.init)
	select {
	case <-h.done:
	default:
		close(h.done)
	}
}

func (h *Handler) init() {
	h.done = make(chan struct{})
	h.ops = &opsSampler{gatherer: h.Gatherer, stores: h.Stores}
	h.series = &seriesKeeper{}
	sub, _ := fs.Sub(static, "static")
	files := http.FileServerFS(sub)
	mux := http.NewServeMux()
	page := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Cache-Control", "no-cache")
			http.ServeFileFS(w, r, sub, name)
		}
	}
	mux.Handle("GET /ops/{$}", guard(h.OpsGuard, page("ops.html")))
	mux.Handle("GET /ops/summary.json", guard(h.OpsGuard, http.HandlerFunc(h.summary)))
	mux.Handle("GET /ops/events", guard(h.OpsGuard, http.HandlerFunc(h.opsEvents)))
	mux.Handle("GET /ops/series.json", guard(h.OpsGuard, http.HandlerFunc(h.seriesJSON)))
	mux.Handle("GET /web/uplot/", http.StripPrefix("/web/uplot", uplot.Handler()))
	mux.Handle("GET /riders/{rider}/{$}", validRider(guard(h.RiderGuard, page("rider.html"))))
	mux.Handle("GET /riders/{rider}/events", validRider(guard(h.RiderGuard, http.HandlerFunc(h.riderEvents))))
	mux.HandleFunc("GET /ops", redirect(func(*http.Request) string { return "/ops/" }))
	mux.HandleFunc("GET /{$}", redirect(func(*http.Request) string { return "/ops/" }))
	mux.HandleFunc("GET /riders/{rider}", redirect(func(r *http.Request) string {
		return "/riders/" + url.PathEscape(r.PathValue("rider")) + "/"
	}))
	mux.Handle("GET /web/", http.StripPrefix("/web", files))
	if h.Next != nil {
		mux.Handle("/", h.Next)
	}
	h.mux = mux
}

// validRider answers 400 for a {rider} that is not a wire token, before
// any guard or subscription sees it.
func validRider(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !wire.ValidToken(r.PathValue("rider")) {
			http.Error(w, "rider must be 1-64 characters of A-Z a-z 0-9 _ -", http.StatusBadRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// redirect answers 302 to the path to returns, keeping the query string
// (a page's access_token).
func redirect(to func(*http.Request) string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		target := to(r)
		if r.URL.RawQuery != "" {
			target += "?" + r.URL.RawQuery
		}
		http.Redirect(w, r, target, http.StatusFound)
	}
}

func guard(g func(http.Handler) http.Handler, next http.Handler) http.Handler {
	if g == nil {
		return next
	}
	return g(next)
}

func (h *Handler) log() *slog.Logger {
	if h.Log == nil {
		return slog.Default()
	}
	return h.Log
}

func or(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
