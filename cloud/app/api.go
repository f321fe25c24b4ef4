package app

import (
	"crypto/rand"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/passline/passline/cloud/httpapi"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/openapi"
	"github.com/passline/passline/cloud/ratelimit"
	"github.com/passline/passline/cloud/token"
	"github.com/passline/passline/cloud/web"
)

// apiHandler builds the relay's one HTTP API (cloud/httpapi.Routes) over
// the state natsjs.SetupAPI made: OAuth clients in KV PASSLINE_CLIENTS, JWT auth with revocation, tiered rate
// limits with a cluster-wide daily count, scope and tenant checks, JSON
// errors, the rider SSE stream, and the config center (store configs in KV
// PASSLINE_CONFIG, agents' reports in PASSLINE_CONFIG_STATUS). Without
// auth.key (config validation allows that only with auth.insecure_dev) the
// same routes are served with authentication off, and /oauth/token signs
// with a random key that lives as long as the process.
func (m *Main) apiHandler() (http.Handler, error) {
	c, js, state := m.Config, m.JetStream(), m.api
	insecure := c.Auth.Key == ""
	a, err := m.webAuth()
	if err != nil {
		return nil, err
	}
	configs := state.Configs
	log := m.Logger.WithGroup("api")
	authority, clients, metrics := a.authority, a.clients, a.metrics
	events := &httpapi.RiderEvents{JS: js, Stream: state.RiderStream, Log: log}
	if c.Relay.RiderOutbox { // the rider outboxes keep every notification: replay from there
		events.Source = natsjs.RiderLog(c.Stream.Partitions)
	}
	limiter := ratelimit.New(nil, nil, nil)
	limiter.Shared = state.Rates
	limiter.OnError = func(err error) { log.Warn("shared rate count failed; request allowed", "err", err) }
	tokenLimit := ratelimit.New(map[string]ratelimit.Plan{"token": {PerSecond: 5}}, nil, nil)
	rt := &httpapi.Routes{
		Auth:       a.auth,
		Insecure:   insecure,
		Limit:      limiter.Middleware,
		APIMetrics: metrics,
		Log:        log,
		Token:      &token.Handler{Clients: clients, Authority: authority, Log: log, Throttle: tokenLimit.Throttle("token")},
		Order:      httpapi.Order(m.Order, log),
		KPIs:       httpapi.KPIs(m.KPIs, nil, log),
		Assign:     httpapi.Assignments(m.Assign, log),
		Template:   httpapi.Template(m.Templates(), log),
		Config:     httpapi.PutStoreConfig(configs, log),
		// ConfigStatus reads what the store's agent reported (agent/configsync).
		ConfigStatus: httpapi.StoreConfigStatus(configs, log),
		Events:       events,
		Health: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := m.Health(); err != nil {
				httpapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "error": err.Error()})
				return
			}
			httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		}),
		Metrics: promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}),
		Spec:    openapi.Handler(),
	}
	m.platformRoutes(rt)
	m.riderRoutes(rt)
	return rt.Handler(), nil
}

// authorityOf is the token authority of the auth section; with no key,
// one signing with a random key for this process only.
func authorityOf(c token.Config) (*token.Authority, error) {
	if c.Key != "" {
		return c.Authority()
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("auth: random key: %w", err)
	}
	return token.NewHS256(key)
}

// webAuthn is what checks bearer tokens, shared by the API routes and the
// pages.
type webAuthn struct {
	authority *token.Authority
	clients   *token.Clients
	metrics   *httpapi.Metrics
	auth      *httpapi.Auth
}

// webAuth builds the token check of this Run once: the authority of
// auth.key (authorityOf), the clients in KV PASSLINE_CLIENTS (revocation)
// and the refusal counters.
func (m *Main) webAuth() (*webAuthn, error) {
	if m.authn != nil {
		return m.authn, nil
	}
	c := m.Config
	authority, err := authorityOf(c.Auth)
	if err != nil {
		return nil, err
	}
	clients := &token.Clients{Store: m.api.Clients, Cost: c.Auth.BcryptCost}
	metrics := httpapi.NewMetrics(m.Registry)
	m.authn = &webAuthn{
		authority: authority, clients: clients, metrics: metrics,
		auth: &httpapi.Auth{Verifier: authority, Active: clients.Active, Log: m.Logger.WithGroup("api"), Metrics: metrics},
	}
	return m.authn, nil
}

// pageGuards are the web pages' guards when auth.key is set: the rider
// page and stream take rider:{rider}, the ops page, summary and stream
// ops:read, each from a bearer header or the page's ?access_token=.
func (m *Main) pageGuards(h *web.Handler) error {
	if m.Config.Auth.Key == "" {
		return nil // insecure dev: open, as the API is
	}
	a, err := m.webAuth()
	if err != nil {
		return err
	}
	h.RiderGuard = func(next http.Handler) http.Handler {
		return a.auth.RequireStream(httpapi.RequireRider("rider", next))
	}
	h.OpsGuard = func(next http.Handler) http.Handler {
		return a.auth.RequireStream(httpapi.RequireScope(token.ScopeOpsRead, next))
	}
	return nil
}
