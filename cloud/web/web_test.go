package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/passline/passline/cloud/breaker"
	"github.com/passline/passline/cloud/natsd/natsdtest"
	"github.com/passline/passline/cloud/web"
	"github.com/passline/passline/wire"
)

func startNATS(t *testing.T) *nats.Conn {
	t.Helper()
	nc, _ := natsdtest.JetStream(t)
	return nc
}

func serve(t *testing.T, h *web.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(func() { h.Close(); srv.Close() })
	return srv
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestPagesAreEmbeddedAndAPIFallsThrough(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api "+r.URL.Path) })
	srv := serve(t, &web.Handler{Next: api})
	for path, want := range map[string]string{
		"/ops/":               `src="/web/ops.js"`,
		"/riders/r-1/":        `src="/web/rider.js"`,
		"/riders/r-1":         `src="/web/rider.js"`, // redirected
		"/web/web.css":        ".note",
		"/web/rider.js":       `new EventSource("events" + location.search)`,
		"/web/uplot/chart.js": `window.PasslineChart`,
		"/healthz":            "api /healthz",
		"/v1/orders/a/b":      "api /v1/orders/a/b",
	} {
		code, body := get(t, srv.URL+path)
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s = %d %q, want %q", path, code, body, want)
		}
		if strings.Contains(body, "https://") {
			t.Errorf("GET %s loads an external asset", path)
		}
	}
	if code, _ := get(t, srv.URL+"/riders/bad.rider/"); code != 400 {
		t.Errorf("bad rider id: %d, want 400", code)
	}
}

func TestSummaryReadsRelayMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	dec := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "passline_relay_decisions_total"}, []string{"result"})
	del := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "passline_relay_deliveries_total"}, []string{"channel", "outcome"})
	lat := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "passline_relay_delivery_latency_seconds", Buckets: []float64{.1, 1, 10}}, []string{"channel"})
	dead := prometheus.NewCounter(prometheus.CounterOpts{Name: "passline_relay_dead_lettered_total"})
	dlq := prometheus.NewGauge(prometheus.GaugeOpts{Name: "passline_relay_dlq_depth"})
	br := breaker.NewCollector()
	br.Add("webhook", breaker.New("merchant-a", breaker.Config{}, nil))
	reg.MustRegister(dec, del, lat, dead, dlq, br)
	dec.WithLabelValues("delivered").Add(7)
	del.WithLabelValues("rider", "ok").Add(5)
	del.WithLabelValues("webhook", "timeout").Add(2)
	for range 99 {
		lat.WithLabelValues("rider").Observe(0.05)
	}
	lat.WithLabelValues("rider").Observe(5)
	dead.Add(3)
	dlq.Set(2)

	now := time.Now()
	tr := &web.StoreTracker{Now: func() time.Time { return now }}
	tr.Seen("s-old")
	now = now.Add(20 * time.Minute)
	for range 30 {
		tr.Seen("s-new")
	}
	now = now.Add(time.Second)

	srv := serve(t, &web.Handler{Gatherer: reg, Stores: tr})
	code, body := get(t, srv.URL+"/ops/summary.json")
	if code != 200 {
		t.Fatalf("summary: %d %s", code, body)
	}
	var s web.Summary
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatal(err)
	}
	if s.StoresOnline != 1 || len(s.Stores) != 2 || s.Stores[0].Store != "s-new" || s.Stores[1].Online {
		t.Errorf("stores = %d %+v", s.StoresOnline, s.Stores)
	}
	if s.DecisionsPerSecond != 3 { // 30 in the last 10 s
		t.Errorf("decisions/s = %v, want 3", s.DecisionsPerSecond)
	}
	if s.Decisions["delivered"] != 7 || s.DeadLettered != 3 || s.DLQDepth != 2 {
		t.Errorf("decisions %v dead %v dlq %v", s.Decisions, s.DeadLettered, s.DLQDepth)
	}
	want := []web.Delivery{{Channel: "rider", Outcome: "ok", Count: 5}, {Channel: "webhook", Outcome: "timeout", Count: 2}}
	if len(s.Deliveries) != 2 || s.Deliveries[0] != want[0] || s.Deliveries[1] != want[1] {
		t.Errorf("deliveries = %+v", s.Deliveries)
	}
	if len(s.Breakers) != 1 || s.Breakers[0].State != "closed" || s.Breakers[0].Channel != "webhook" {
		t.Errorf("breakers = %+v", s.Breakers)
	}
	if s.DeliveryP99S < 0.09 || s.DeliveryP99S > 0.1 {
		t.Errorf("p99 = %v, want within the 0.1 s bucket", s.DeliveryP99S)
	}
}

func TestStoreTrackerSeesDecisionSubjects(t *testing.T) {
	nc := startNATS(t)
	tr := &web.StoreTracker{}
	if err := tr.Start(nc); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	_ = nc.Publish(wire.DecisionSubject("store-7"), []byte("{}"))
	_ = nc.Publish(wire.RiderSubject("x", "k1"), []byte("{}"))
	deadline := time.Now().Add(5 * time.Second)
	for len(tr.Stores()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if st := tr.Stores(); len(st) != 1 || st[0].Store != "store-7" || !st[0].Online {
		t.Fatalf("stores = %+v", st)
	}
}

func TestRiderEventsStreamNotifications(t *testing.T) {
	nc := startNATS(t)
	srv := serve(t, &web.Handler{Riders: web.NATSRiders{NC: nc}})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/riders/r-9/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	if !sc.Scan() || sc.Text() != "event: hello" { // subscribed from here on
		t.Fatalf("first line %q", sc.Text())
	}
	n := wire.Notification{ID: "d-1", Rider: "r-9", Store: "s1", OrderID: "o1", Kind: wire.KindReady, Text: "Order #4 is ready",
		SentAt: time.Now(), DecidedAt: time.Now()}
	other := n
	other.Rider, other.ID = "r-8", "d-other"
	for _, x := range []wire.Notification{other, n} {
		b, err := x.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		msg := nats.NewMsg(wire.RiderSubject(x.Rider, x.ID))
		msg.Data = b
		msg.Header.Set(wire.HeaderTraceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
		if err := nc.PublishMsg(msg); err != nil {
			t.Fatal(err)
		}
	}
	got := make(chan wire.Notification, 1)
	go func() {
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok && strings.HasPrefix(data, "{") {
				var x wire.Notification
				_ = json.Unmarshal([]byte(data), &x)
				got <- x
				return
			}
		}
	}()
	select {
	case x := <-got:
		if x.ID != "d-1" || x.Text != n.Text || x.Traceparent != "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" {
			t.Fatalf("streamed %+v, want d-1 with the header's trace id", x)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no notification streamed within 10s")
	}
}

func TestOpsEventsStreamSummariesUntilClose(t *testing.T) {
	tr := &web.StoreTracker{}
	tr.Seen("s1")
	h := &web.Handler{Stores: tr, OpsInterval: 20 * time.Millisecond}
	srv := serve(t, h)
	resp, err := http.Get(srv.URL + "/ops/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	summaries := 0
	for summaries < 2 && sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var s web.Summary
			if err := json.Unmarshal([]byte(data), &s); err != nil || s.StoresOnline != 1 {
				t.Fatalf("summary %q: %v", data, err)
			}
			summaries++
		}
	}
	h.Close()
	done := make(chan struct{})
	go func() {
		for sc.Scan() {
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("stream still open 5s after Close")
	}
}

// TestGuardsWrapPagesAndStreams: RiderGuard wraps the rider page and its
// stream, OpsGuard the ops page, summary and stream; a redirect to a page
// keeps the query (the page's access_token, which the page hands to its
// stream); static files stay public.
func TestGuardsWrapPagesAndStreams(t *testing.T) {
	guard := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Query().Get("access_token") != "good" {
				http.Error(w, "no", http.StatusUnauthorized)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
	srv := serve(t, &web.Handler{RiderGuard: guard, OpsGuard: guard})
	for path, want := range map[string]int{
		"/riders/r1/events":                   401,
		"/ops/events":                         401,
		"/ops/summary.json":                   401,
		"/ops/summary.json?access_token=good": 200,
		"/riders/r1/":                         401,
		"/ops/":                               401,
		"/ops/?access_token=good":             200,
		"/riders/r1?access_token=good":        200, // redirected with its query
		"/ops?access_token=good":              200,
		"/web/web.css":                        200,
	} {
		if code, _ := get(t, srv.URL+path); code != want {
			t.Errorf("GET %s = %d, want %d", path, code, want)
		}
	}
}
