package httpapi

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/passline/passline/cloud/token"
)

// Routes are the relay's HTTP API routes and what guards each. Handler
// mounts every non-nil handler behind its guards; a nil one is not
// mounted. With Insecure set the same routes are mounted without guards.
//
//	POST /oauth/token                                       Token (no bearer; it throttles itself)
//	GET  /v1/stores/{store}/orders/{order}                  bearer, limit, orders:read, store
//	GET  /v1/stores/{store}/kpis                            bearer, limit, orders:read, store
//	POST /v1/assignments                                    bearer, limit, assignments:write
//	PUT  /v1/merchants/{merchant}/templates/{kind}/{locale} bearer, limit, templates:write, merchant
//	PUT  /v1/stores/{store}/config                          bearer, limit, config:write, store
//	GET  /v1/stores/{store}/config/status                   bearer, limit, config:write, store
//	GET  /v1/riders/{rider}/events                          bearer or ?access_token, limit, rider:{rider}
//	POST /v1/riders/{rider}/orders/{order}/ack              bearer, limit, rider:{rider}
//	POST /v1/riders/{rider}/orders/{order}/arrived          bearer, limit, rider:{rider}
//	PUT, DELETE /v1/stores/{store}/platforms/{platform}     bearer, limit, platform:write, store
//	GET  /v1/stores/{store}/platforms                       bearer, limit, platform:write, store
//	GET  /healthz, GET /metrics, GET /openapi.yaml          public
//
// Every route also gets Recover, LimitBody(MaxBody) and, before any guard,
// ValidPath (a bad path parameter is a 400 naming it); anything else
// answers a JSON 404 no_route. The handler Handler returns has a Close
// method that ends open rider streams: register it with the server's
// RegisterOnShutdown, or Shutdown waits for them until its deadline.
type Routes struct {
	// Auth authenticates every guarded route; unused when Insecure.
	Auth *Auth
	// Insecure switches authentication off: every route is mounted as it
	// is with Auth, but no bearer, scope, tenant or rider check runs, each
	// request carries InsecureClaims (every scope, store and merchant),
	// and Limit, which counts per authenticated client, is not applied.
	// Anyone who reaches the listener may read orders, assign riders and
	// change templates and store configs: for the demo and tests only.
	Insecure bool
	// Limit is the per-client rate limit middleware
	// ((*ratelimit.Limiter).Middleware); it runs after Auth. nil: none.
	Limit func(http.Handler) http.Handler
	// MaxBody caps request bodies; MaxBody (64 KiB) when 0.
	MaxBody int64
	Log     *slog.Logger
	// APIMetrics counts answers per route (NewMetrics); nil: none. Give
	// the same one to Auth to count token refusals by reason.
	APIMetrics *Metrics

	Token    http.Handler // *token.Handler
	Order    http.Handler
	KPIs     http.Handler // KPIs: the store's readiness KPIs
	Assign   http.Handler
	Template http.Handler
	Config   http.Handler // PutStoreConfig
	// ConfigStatus is StoreConfigStatus.
	ConfigStatus http.Handler
	Events       http.Handler // *RiderEvents
	// RiderAck and RiderArrived are RiderAck's and RiderArrived's.
	RiderAck, RiderArrived http.Handler
	Health                 http.Handler
	Metrics                http.Handler
	Spec                   http.Handler // openapi.Handler()

	// PlatformPut, PlatformDelete and PlatformList are PlatformRoutes'.
	PlatformPut, PlatformDelete, PlatformList http.Handler
}

// Handler returns the mux of every mounted route.
func (rt *Routes) Handler() http.Handler {
	mux := http.NewServeMux()
	guarded := func(h http.Handler, stream bool, checks ...func(http.Handler) http.Handler) http.Handler {
		if rt.Insecure {
			return allowAll(h)
		}
		for i := len(checks) - 1; i >= 0; i-- {
			h = checks[i](h)
		}
		if rt.Limit != nil {
			h = rt.Limit(h)
		}
		if stream {
			return rt.Auth.RequireStream(h)
		}
		return rt.Auth.Require(h)
	}
	scope := func(s string) func(http.Handler) http.Handler {
		return func(h http.Handler) http.Handler { return RequireScope(s, h) }
	}
	store := func(h http.Handler) http.Handler { return RequireStore("store", h) }
	merchant := func(h http.Handler) http.Handler { return RequireMerchant("merchant", h) }
	rider := func(h http.Handler) http.Handler { return RequireRider("rider", h) }
	routes := []struct {
		pattern string
		h       http.Handler
		wrap    func(http.Handler) http.Handler
	}{
		{"POST /oauth/token", rt.Token, nil},
		{"GET /v1/stores/{store}/orders/{order}", rt.Order, func(h http.Handler) http.Handler { return guarded(h, false, scope(token.ScopeOrdersRead), store) }},
		{"GET /v1/stores/{store}/kpis", rt.KPIs, func(h http.Handler) http.Handler { return guarded(h, false, scope(token.ScopeOrdersRead), store) }},
		{"POST /v1/assignments", rt.Assign, func(h http.Handler) http.Handler { return guarded(h, false, scope(token.ScopeAssignmentsWrite)) }},
		{"PUT /v1/merchants/{merchant}/templates/{kind}/{locale}", rt.Template, func(h http.Handler) http.Handler {
			return guarded(h, false, scope(token.ScopeTemplatesWrite), merchant)
		}},
		{"PUT /v1/stores/{store}/config", rt.Config, func(h http.Handler) http.Handler { return guarded(h, false, scope(token.ScopeConfigWrite), store) }},
		{"GET /v1/stores/{store}/config/status", rt.ConfigStatus, func(h http.Handler) http.Handler {
			return guarded(h, false, scope(token.ScopeConfigWrite), store)
		}},
		{"PUT /v1/stores/{store}/platforms/{platform}", rt.PlatformPut, func(h http.Handler) http.Handler {
			return guarded(h, false, scope(token.ScopePlatformWrite), store)
		}},
		{"DELETE /v1/stores/{store}/platforms/{platform}", rt.PlatformDelete, func(h http.Handler) http.Handler {
			return guarded(h, false, scope(token.ScopePlatformWrite), store)
		}},
		{"GET /v1/stores/{store}/platforms", rt.PlatformList, func(h http.Handler) http.Handler {
			return guarded(h, false, scope(token.ScopePlatformWrite), store)
		}},
		{"GET /v1/riders/{rider}/events", rt.Events, func(h http.Handler) http.Handler { return guarded(h, true, rider) }},
		{"POST /v1/riders/{rider}/orders/{order}/ack", rt.RiderAck, func(h http.Handler) http.Handler { return guarded(h, false, rider) }},
		{"POST /v1/riders/{rider}/orders/{order}/arrived", rt.RiderArrived, func(h http.Handler) http.Handler { return guarded(h, false, rider) }},
		{"GET /healthz", rt.Health, nil},
		{"GET /metrics", rt.Metrics, nil},
		{"GET /openapi.yaml", rt.Spec, nil},
	}
	for _, r := range routes {
		if r.h == nil {
			continue
		}
		h := r.h
		if r.wrap != nil {
			h = r.wrap(h)
		}
		mux.Handle(r.pattern, rt.APIMetrics.instrument(r.pattern, r.pattern == "GET /v1/riders/{rider}/events", ValidPath(h)))
	}
	mux.HandleFunc("/", NoRoute)
	limit := rt.MaxBody
	if limit <= 0 {
		limit = MaxBody
	}
	h := &closingHandler{Handler: Recover(rt.Log, LimitBody(limit, mux))}
	if c, ok := rt.Events.(interface{ Close() }); ok {
		h.close = c.Close
	}
	return h
}

// closingHandler is Routes' handler: Close ends open streams.
type closingHandler struct {
	http.Handler
	close func()
}

// Close ends every open rider stream (RiderEvents.Close).
// http.Server.Shutdown waits for active requests, and a stream never
// finishes by itself, so register it: srv.RegisterOnShutdown(h.(interface{ Close() }).Close).
func (h *closingHandler) Close() {
	if h.close != nil {
		h.close()
	}
}

// InsecureClaims are the claims of every guarded request when
// Routes.Insecure is set: all scopes, stores and merchants.
func InsecureClaims() *token.Claims {
	c := &token.Claims{Tier: token.TierEnterprise, Stores: []string{"*"}, Merchants: []string{"*"},
		Scope: strings.Join([]string{token.ScopeOrdersRead, token.ScopeAssignmentsWrite, token.ScopeTemplatesWrite, token.ScopeConfigWrite}, " ")}
	c.Subject = "insecure-dev"
	return c
}

// allowAll serves next with InsecureClaims in the request context.
func allowAll(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(WithClaims(r.Context(), InsecureClaims())))
	})
}
