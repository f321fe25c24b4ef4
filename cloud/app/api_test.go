package app_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/app"
	"github.com/passline/passline/cloud/config"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/openapi"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/cloud/token"
	"github.com/passline/passline/wire"
)

// securedRelay is a relay with auth.key set and an API client "platform"
// that may request every scope.
type securedRelay struct {
	m    *app.Main
	base string
	nc   *nats.Conn
	js   jetstream.JetStream
	// token returns an access token for scope from POST /oauth/token.
	token func(scope string) string
}

func startSecured(t *testing.T, cfg config.Config) *securedRelay {
	t.Helper()
	cfg.Auth = token.Config{Key: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", BcryptCost: 4}
	m := relaytest.MustRun(t, cfg)
	nc, js := relaytest.Connect(t, m.NATSURL())
	store, err := natsjs.SetupClients(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := token.AddClient(context.Background(), store, token.ClientSpec{ID: "platform", Tier: token.TierEnterprise,
		Scopes: []string{token.ScopeOrdersRead, token.ScopeAssignmentsWrite, token.ScopeTemplatesWrite, token.ScopeConfigWrite, token.ScopeAnyRider, token.ScopeOpsRead},
		Stores: []string{"*"}, Merchants: []string{"*"}})
	if err != nil {
		t.Fatal(err)
	}
	s := &securedRelay{m: m, base: "http://" + m.HTTPAddr(), nc: nc, js: js}
	s.token = func(scope string) string {
		t.Helper()
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
		req, _ := http.NewRequest("POST", s.base+"/oauth/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("platform", secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var tr struct {
			AccessToken string `json:"access_token"`
		}
		if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&tr) != nil {
			t.Fatalf("token for %q: %d", scope, resp.StatusCode)
		}
		return tr.AccessToken
	}
	return s
}

// withPlatforms turns the platform gateway on, so every route of
// openapi.yaml is mounted (the platform credential routes only are with
// platform.seal_key).
func withPlatforms(cfg config.Config) config.Config {
	cfg.Platform.SealKey = "AwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDAwM=" // base64 of 32 bytes
	return cfg
}

func TestSecuredAPIWalkAndRiderStream(t *testing.T) {
	s := startSecured(t, withPlatforms(relaytest.Config(t.TempDir())))
	base, nc, js, getToken := s.base, s.nc, s.js, s.token
	ctx := context.Background()
	all := getToken("orders:read assignments:write templates:write config:write rider:sample-rider")

	// Every route of openapi.yaml, without and with a token: only
	// documented answers.
	for _, res := range openapi.Walk(http.DefaultClient, base, openapi.Routes(), 0, nil) {
		if err := res.Problem(); err != nil {
			t.Errorf("anonymous: %v", err)
		}
		if strings.HasPrefix(res.Route.Path, "/v1/") && res.Status != 401 {
			t.Errorf("anonymous %s: %d, want 401", res.Route.Pattern(), res.Status)
		}
	}
	for _, res := range openapi.Walk(http.DefaultClient, base, openapi.Routes(), 0, func(r *http.Request, _ openapi.Route) {
		r.Header.Set("Authorization", "Bearer "+all)
	}) {
		if err := res.Problem(); err != nil {
			t.Errorf("authorized: %v", err)
		}
	}

	// A rider's SSE stream through the real relay, replayed from the rider
	// outbox: no second stream stores the notifications.
	rtok := getToken("rider:rider-7")
	stop, lines := riderStream(t, base, rtok, "")
	time.Sleep(300 * time.Millisecond)
	if err := relaytest.Publish(ctx, js, relaytest.Decision("dec-9", "store-1", "order-1", wire.KindReady)); err != nil {
		t.Fatal(err)
	}
	if err := relaytest.Assign(nc, "store-1", "order-1", "rider-7"); err != nil {
		t.Fatal(err)
	}
	id := waitEvent(t, lines, "dec-9")
	stop()
	riders := relaytest.Subscribe(t, nc)
	if err := relaytest.Assign(nc, "store-1", "order-2", "rider-7"); err != nil {
		t.Fatal(err)
	}
	if err := relaytest.Publish(ctx, js, relaytest.Decision("dec-10", "store-1", "order-2", wire.KindReady)); err != nil {
		t.Fatal(err)
	}
	if !relaytest.WaitFor(15*time.Second, func() bool { d, _, _, _ := riders.Counts(); return d == 1 }) {
		t.Fatal("dec-10 not delivered")
	}
	_, lines = riderStream(t, base, rtok, id)
	waitEvent(t, lines, "dec-10") // sent while the rider was away
	if _, err := js.Stream(ctx, natsjs.StreamRiders); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("stream %s: %v; with the rider outbox no stream stores notifications again", natsjs.StreamRiders, err)
	}
}

// riderStream opens the rider's SSE stream, after lastID when set, and
// returns what closes it and its lines.
func riderStream(t *testing.T, base, token, lastID string) (stop func(), lines chan string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/v1/riders/rider-7/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("stream: %v %v", err, resp.StatusCode)
	}
	lines = make(chan string, 100)
	go func() {
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	return cancel, lines
}

// waitEvent waits up to 15 s for the event carrying decision id and
// returns its event id.
func waitEvent(t *testing.T, lines chan string, decision string) string {
	t.Helper()
	deadline := time.After(15 * time.Second)
	var id string
	for {
		select {
		case l := <-lines:
			if v, ok := strings.CutPrefix(l, "id: "); ok {
				id = v
			}
			if strings.HasPrefix(l, "data: ") && strings.Contains(l, `"`+decision+`"`) {
				t.Logf("SSE id %s: %s", id, l)
				return id
			}
		case <-deadline:
			t.Fatalf("no SSE event for %s", decision)
		}
	}
}

// TestInsecureDevServesSameRoutes runs the relay once with auth.key and once
// with auth.insecure_dev: every route of openapi.yaml answers a documented
// status in both, only the secured relay asks for a token, and a path
// outside the spec is no_route in both.
func TestInsecureDevServesSameRoutes(t *testing.T) {
	secured := withPlatforms(relaytest.Config(t.TempDir()))
	secured.Auth = token.Config{Key: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", BcryptCost: 4}
	insecure := withPlatforms(relaytest.Config(t.TempDir()))
	if !insecure.Auth.InsecureDev || insecure.Auth.Key != "" {
		t.Fatalf("relaytest config is not insecure dev: %+v", insecure.Auth)
	}
	answers := map[string]map[string]openapi.Result{}
	for name, cfg := range map[string]config.Config{"secured": secured, "insecure": insecure} {
		m := relaytest.MustRun(t, cfg)
		base := "http://" + m.HTTPAddr()
		answers[name] = map[string]openapi.Result{}
		for _, res := range openapi.Walk(http.DefaultClient, base, openapi.Routes(), 5*time.Second, nil) {
			answers[name][res.Route.Pattern()] = res
		}
		outside := openapi.Route{Method: "GET", Path: "/v1/merchants/m1/templates/ready/en", Responses: []string{"404"}}
		res := openapi.Walk(http.DefaultClient, base, []openapi.Route{outside}, 5*time.Second, nil)[0]
		if res.Status != http.StatusNotFound || res.ErrorCode != "no_route" {
			t.Errorf("%s: %s = %d %q, want 404 no_route", name, outside.Pattern(), res.Status, res.ErrorCode)
		}
	}
	for _, r := range openapi.Routes() {
		s, i := answers["secured"][r.Pattern()], answers["insecure"][r.Pattern()]
		for name, res := range map[string]openapi.Result{"secured": s, "insecure": i} {
			if err := res.Problem(); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
		if strings.HasPrefix(r.Path, "/v1/") && s.Status != http.StatusUnauthorized {
			t.Errorf("secured %s without a token: %d, want 401", r.Pattern(), s.Status)
		}
		if i.Status == http.StatusUnauthorized || i.Status == http.StatusForbidden {
			t.Errorf("insecure %s: %d, want no authentication", r.Pattern(), i.Status)
		}
	}
}
