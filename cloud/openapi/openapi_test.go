package openapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"golang.org/x/crypto/bcrypt"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/httpapi"
	"github.com/passline/passline/cloud/natsd/natsdtest"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/openapi"
	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/cloud/ratelimit"
	"github.com/passline/passline/cloud/template"
	"github.com/passline/passline/cloud/token"
	"github.com/passline/passline/wire"
)

// apiRoutes is every route the API must serve.
var apiRoutes = []string{
	"POST /oauth/token",
	"GET /v1/stores/{store}/orders/{order}",
	"GET /v1/stores/{store}/kpis",
	"POST /v1/assignments",
	"PUT /v1/merchants/{merchant}/templates/{kind}/{locale}",
	"PUT /v1/stores/{store}/config",
	"GET /v1/stores/{store}/config/status",
	"GET /v1/riders/{rider}/events",
	"POST /v1/riders/{rider}/orders/{order}/ack",
	"POST /v1/riders/{rider}/orders/{order}/arrived",
	"GET /v1/stores/{store}/platforms",
	"PUT /v1/stores/{store}/platforms/{platform}",
	"DELETE /v1/stores/{store}/platforms/{platform}",
	"GET /healthz",
	"GET /metrics",
}

func TestSpecParsesAndCoversAPI(t *testing.T) {
	routes := openapi.Routes()
	var got []string
	for _, r := range routes {
		got = append(got, r.Pattern())
		if len(r.Responses) == 0 {
			t.Errorf("%s has no responses", r.Pattern())
		}
		if strings.HasPrefix(r.Path, "/v1/") {
			for _, code := range []string{"400", "401", "403", "429"} {
				if !slices.Contains(r.Responses, code) {
					t.Errorf("%s does not document %s", r.Pattern(), code)
				}
			}
			if len(r.Scopes) == 0 {
				t.Errorf("%s names no scope", r.Pattern())
			}
		}
		if (r.Method == "POST" || r.Method == "PUT") && len(r.Body) == 0 {
			t.Errorf("%s has no example body", r.Pattern())
		}
		if strings.ContainsAny(r.Sample(), "{}") {
			t.Errorf("sample path %q keeps a parameter", r.Sample())
		}
	}
	slices.Sort(got)
	want := slices.Clone(apiRoutes)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("routes %v\nwant %v", got, want)
	}
}

func TestParseRefusesBrokenSpecs(t *testing.T) {
	for name, doc := range map[string]string{
		"not yaml":     "{",
		"swagger 2":    "swagger: '2.0'\nopenapi: '2.0'\npaths: {}",
		"no responses": "openapi: 3.0.3\npaths:\n  /x:\n    get:\n      summary: x\n",
		"bad method":   "openapi: 3.0.3\npaths:\n  /x:\n    fetch:\n      responses: {'200': {description: ok}}\n",
	} {
		if _, err := openapi.Parse([]byte(doc)); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}

func TestExamplesDecode(t *testing.T) {
	for pattern, v := range map[string]any{"POST /v1/assignments": new(wire.Assignment), "PUT /v1/stores/{store}/config": new(wire.StoreConfig)} {
		found := false
		for _, r := range openapi.Routes() {
			if r.Pattern() != pattern {
				continue
			}
			found = true
			if e := httpapi.DecodeBytes(r.Body, v); e != nil {
				t.Errorf("%s: spec example %s refused by the decoder: %v", pattern, r.Body, e)
			}
		}
		if !found {
			t.Errorf("no route %s", pattern)
		}
	}
}

// riderJS starts an embedded JetStream server with the rider stream.
func riderJS(t *testing.T) jetstream.JetStream {
	t.Helper()
	_, js := natsdtest.JetStream(t)
	if _, err := natsjs.EnsureRiderStream(context.Background(), js, time.Hour, 1); err != nil {
		t.Fatal(err)
	}
	return js
}

// putter stores every template as version 1.
type putter struct{}

func (putter) PutTemplate(context.Context, template.Key, string) (uint64, error) { return 1, nil }

// server mounts the real token endpoint, guards, rate limits and the
// httpapi handlers (over fake relay functions) through httpapi.Routes;
// the config routes over real KV buckets; the rest are stubs answering a
// documented status.
// skip leaves one handler unmounted; insecure switches authentication off.
func server(t *testing.T, skip string, insecure bool) (*httptest.Server, *token.Authority) {
	t.Helper()
	a, err := token.NewHS256([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	clients := &token.Clients{Store: token.NewMemStore(), Cost: bcrypt.MinCost}
	status := func(code int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if code == 200 {
				httpapi.WriteJSON(w, code, map[string]string{"ok": "yes"})
				return
			}
			w.WriteHeader(code)
		})
	}
	js := riderJS(t)
	state, err := natsjs.SetupAPI(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	configs := state.Configs
	rt := &httpapi.Routes{
		Auth:         &httpapi.Auth{Verifier: a},
		Insecure:     insecure,
		Limit:        ratelimit.New(nil, nil, nil).Middleware,
		Token:        &token.Handler{Clients: clients, Authority: a},
		Order:        httpapi.Order(func(context.Context, string, string) (any, bool, error) { return nil, false, nil }, nil),
		KPIs:         httpapi.KPIs(func(context.Context, string, time.Time, time.Time) (any, error) { return map[string]any{}, nil }, nil, nil),
		Assign:       httpapi.Assignments(func(context.Context, wire.Assignment) error { return nil }, nil),
		Template:     httpapi.Template(putter{}, nil),
		Config:       httpapi.PutStoreConfig(configs, nil),
		Events:       &httpapi.RiderEvents{JS: js},
		RiderAck:     httpapi.RiderAck(noOrders{}, nil),
		RiderArrived: httpapi.RiderArrived(noOrders{}, nil),
		ConfigStatus: httpapi.StoreConfigStatus(configs, nil),
		Health:       status(200), Metrics: status(200), Spec: openapi.Handler(),
	}
	pr := httpapi.PlatformRoutes{Store: noCreds{}}
	rt.PlatformPut, rt.PlatformDelete, rt.PlatformList = pr.Put(), pr.Delete(), pr.List()
	switch skip {
	case "config":
		rt.Config = nil
	case "events":
		rt.Events = nil
	}
	srv := httptest.NewServer(rt.Handler())
	t.Cleanup(srv.Close)
	return srv, a
}

func TestWalkEveryRoute(t *testing.T) {
	t.Run("secured", testWalkSecured)
	t.Run("insecure dev", testWalkInsecure)
}

func testWalkSecured(t *testing.T) {
	srv, a := server(t, "", false)
	routes := openapi.Routes()

	anon := openapi.Walk(srv.Client(), srv.URL, routes, 5*time.Second, nil)
	for _, res := range anon {
		if err := res.Problem(); err != nil {
			t.Error(err)
		}
		if strings.HasPrefix(res.Route.Path, "/v1/") && res.Status != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d, want 401", res.Route.Pattern(), res.Status)
		}
	}

	tok, _, err := a.Issue(token.Client{ID: "all", Tier: token.TierEnterprise, Stores: []string{"*"}, Merchants: []string{"*"}},
		[]string{token.ScopeOrdersRead, token.ScopeAssignmentsWrite, token.ScopeTemplatesWrite, token.ScopeConfigWrite, token.ScopePlatformWrite, token.RiderScope("sample-rider")})
	if err != nil {
		t.Fatal(err)
	}
	authed := openapi.Walk(srv.Client(), srv.URL, routes, 5*time.Second, func(r *http.Request, _ openapi.Route) {
		r.Header.Set("Authorization", "Bearer "+tok)
	})
	for _, res := range authed {
		if err := res.Problem(); err != nil {
			t.Error(err)
		}
		if strings.HasPrefix(res.Route.Path, "/v1/") && (res.Status == 401 || res.Status == 403) {
			t.Errorf("%s with every scope: %d", res.Route.Pattern(), res.Status)
		}
		if res.Route.Path == "/v1/riders/{rider}/events" && (res.Status != 200 || res.ContentType != "text/event-stream") {
			t.Errorf("rider stream: %d %q", res.Status, res.ContentType)
		}
	}
}

// testWalkInsecure walks the same router with authentication off: every
// route answers a documented status without a token, none 401 or 403.
func testWalkInsecure(t *testing.T) {
	srv, _ := server(t, "", true)
	for _, res := range openapi.Walk(srv.Client(), srv.URL, openapi.Routes(), 5*time.Second, nil) {
		if err := res.Problem(); err != nil {
			t.Error(err)
		}
		if res.Status == http.StatusUnauthorized || res.Status == http.StatusForbidden {
			t.Errorf("%s without a token, authentication off: %d", res.Route.Pattern(), res.Status)
		}
		if res.Route.Path == "/v1/riders/{rider}/events" && (res.Status != 200 || res.ContentType != "text/event-stream") {
			t.Errorf("rider stream: %d %q", res.Status, res.ContentType)
		}
	}
}

func TestWalkFindsUnmountedRoute(t *testing.T) {
	srv, _ := server(t, "config", false)
	var problems []string
	for _, res := range openapi.Walk(srv.Client(), srv.URL, openapi.Routes(), 0, nil) {
		if err := res.Problem(); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) != 1 || !strings.Contains(problems[0], "PUT /v1/stores/{store}/config: not mounted (no_route)") {
		t.Fatalf("problems %v", problems)
	}
	undocumented := openapi.Result{Route: openapi.Route{Method: "GET", Path: "/x", Responses: []string{"200"}}, Status: 418, ContentType: "application/json"}
	if undocumented.Problem() == nil {
		t.Fatal("undocumented status passed")
	}
}

func TestSpecServed(t *testing.T) {
	srv, _ := server(t, "", false)
	resp, err := srv.Client().Get(srv.URL + "/openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/yaml" {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// noCreds accepts and forgets platform credentials.
type noCreds struct{}

func (noCreds) Put(context.Context, string, platform.Credentials) error { return nil }
func (noCreds) Delete(context.Context, string, string) error            { return nil }
func (noCreds) Connected(context.Context, string) (map[string]time.Time, error) {
	return map[string]time.Time{}, nil
}

// noOrders knows no rider's orders: every ack and arrival is a 404.
type noOrders struct{}

func (noOrders) Ack(context.Context, string, string, string, uint64) error {
	return cloud.ErrUnknownOrder
}

func (noOrders) Arrived(context.Context, string, string, string) error { return cloud.ErrUnknownOrder }
