package app_test

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/passline/passline/firmware-bridge/app"
)

// scrapeMetrics reads the bridge's /metrics into series → value, the
// series written as Prometheus prints it: name{label="v",...}.
func scrapeMetrics(t *testing.T, m *app.Main) map[string]float64 {
	t.Helper()
	if m.HTTPAddr() == "" {
		t.Fatal("bridge serves no /metrics (http.listen empty)")
	}
	resp, err := http.Get("http://" + m.HTTPAddr() + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s", resp.Status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if strings.HasPrefix(line, "#") || i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("scrape: bad sample %q", line)
		}
		out[line[:i]] = v
	}
	return out
}

// checkDeviceMetrics checks what TestBridgeDevicesOverMQTT did shows in
// the scrape: one ticket of ticketBytes through the proxy, one stable
// weight, every driver's device online, and the broker link up.
func checkDeviceMetrics(t *testing.T, m *app.Main, ticketBytes int) {
	t.Helper()
	got := scrapeMetrics(t, m)
	for _, c := range []struct {
		series string
		min    float64
		max    float64
	}{
		{`passline_bridge_link_up{link="mqtt"}`, 1, 1},
		{`passline_bridge_queue_depth`, 0, 0},
		{`passline_bridge_print_jobs_total`, 1, 1},
		{`passline_bridge_print_bytes_total`, float64(ticketBytes), float64(ticketBytes)},
		{`passline_bridge_print_tickets_total{result="parsed"}`, 1, 1},
		{`passline_bridge_print_tickets_total{result="unparsed"}`, 0, 0},
		{`passline_bridge_scale_stable_readings_total`, 1, 1},
		{`passline_bridge_events_published_total{device="printer",kind="ticket"}`, 1, 1},
		{`passline_bridge_events_published_total{device="scale",kind="weight"}`, 1, 1},
		{`passline_bridge_events_published_total{device="bumpbar",kind="key"}`, 2, 1e9},
		{`passline_bridge_events_published_total{device="scanner",kind="scan"}`, 1, 1},
		{`passline_bridge_input_ignored_total{device_id="scanner-1"}`, 1, 1},
		{`passline_bridge_input_ignored_total{device_id="bumpbar-1"}`, 0, 0},
		{`passline_bridge_device_up{device="printer",device_id="printer-1"}`, 1, 1},
		{`passline_bridge_device_up{device="scale",device_id="scale-1"}`, 1, 1},
		{`passline_bridge_publish_latency_seconds_count`, 5, 1e9},
	} {
		v, ok := got[c.series]
		if !ok {
			t.Errorf("%s: not in /metrics", c.series)
			continue
		}
		if v < c.min || v > c.max {
			t.Errorf("%s = %v, want [%v, %v]", c.series, v, c.min, c.max)
		}
	}
}
