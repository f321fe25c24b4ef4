package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/wire"
)

// TestKPIsServedFromDecisions runs the relay in insecure dev mode, sends
// one order's eta and ready, and reads the store's KPIs through the API:
// one order, ready reported, and rider wait unknown (no arrival data),
// never 0.
func TestKPIsServedFromDecisions(t *testing.T) {
	cfg := relaytest.Config(t.TempDir())
	cfg.Demo.AutoAssign, cfg.Demo.Riders = true, 1
	m := relaytest.MustRun(t, cfg)
	_, js := relaytest.Connect(t, m.NATSURL())
	ctx := context.Background()
	eta := relaytest.Decision("k-1", "kpi-store", "o1", wire.KindETA)
	ready := relaytest.Decision("k-2", "kpi-store", "o1", wire.KindReady)
	eta.AcceptedAt, ready.AcceptedAt = eta.CreatedAt.Add(-5*time.Minute), eta.CreatedAt.Add(-5*time.Minute)
	for _, d := range []wire.Decision{eta, ready} {
		if err := relaytest.Publish(ctx, js, d); err != nil {
			t.Fatal(err)
		}
	}
	q := url.Values{"from": {time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)}, "to": {time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}}
	var got struct {
		Total struct {
			Orders          int      `json:"orders"`
			ReadyReported   int      `json:"ready_reported"`
			ReadyReportRate *float64 `json:"ready_report_rate"`
			RiderWait       any      `json:"rider_wait_s"`
			Flags           []string `json:"flags"`
		} `json:"total"`
		Hours []json.RawMessage `json:"hours"`
	}
	ok := relaytest.WaitFor(10*time.Second, func() bool {
		resp, err := http.Get("http://" + m.HTTPAddr() + "/v1/stores/kpi-store/kpis?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("status %d", resp.StatusCode)
		}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		return got.Total.ReadyReported == 1
	})
	if !ok || got.Total.Orders != 1 || got.Total.ReadyReportRate == nil || *got.Total.ReadyReportRate != 1 ||
		got.Total.RiderWait != nil || len(got.Total.Flags) == 0 || got.Total.Flags[0] != "no_arrival_data" || len(got.Hours) < 3 {
		t.Fatalf("kpis %+v (%d hours)", got.Total, len(got.Hours))
	}
	resp, err := http.Get("http://" + m.HTTPAddr() + "/v1/stores/kpi-store/kpis?from=yesterday")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("bad from: %d", resp.StatusCode)
	}
}
