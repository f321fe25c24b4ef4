package e2e_test

import (
	"bufio"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/wire"
)

// TestAlertRulesPassPromtool runs `promtool check rules` and the rules'
// unit tests. It skips when promtool is not installed (Debian: apt-get
// install prometheus).
func TestAlertRulesPassPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not on PATH (apt-get install -y prometheus): alert rules not checked")
	}
	for _, args := range [][]string{
		{"check", "rules", filepath.Join("..", "configs", "alerts.yaml")},
		{"test", "rules", filepath.Join("..", "configs", "alerts_test.yaml")},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// documented is one row of configs/METRICS.md.
type documented struct{ name, program, typ, labels string }

func readMetricsDoc(t *testing.T) []documented {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "configs", "METRICS.md"))
	if err != nil {
		t.Fatal(err)
	}
	var out []documented
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `passline_") {
			continue
		}
		cells := strings.Split(strings.ReplaceAll(line, `\|`, "/"), "|")
		if len(cells) < 6 {
			t.Fatalf("METRICS.md row has too few cells: %s", line)
		}
		d := documented{strings.Trim(strings.TrimSpace(cells[1]), "`"), strings.TrimSpace(cells[2]), strings.TrimSpace(cells[3]), strings.TrimSpace(cells[4])}
		out = append(out, d)
	}
	if len(out) < 20 {
		t.Fatalf("METRICS.md lists only %d metrics", len(out))
	}
	return out
}

// scraped is what one /metrics scrape says about one metric family.
type scraped struct {
	typ    string
	labels map[string]bool
}

var sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})?\s`)

// scrape reads the program's /metrics: each family's type and label names.
func scrape(t *testing.T, addr string) map[string]scraped {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape %s: %v", addr, err)
	}
	defer resp.Body.Close()
	out := map[string]scraped{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			out[f[2]] = scraped{typ: f[3], labels: map[string]bool{}}
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name := m[1]
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base := strings.TrimSuffix(name, suffix); base != name && out[base].typ == "histogram" {
				name = base
			}
		}
		s, ok := out[name]
		if !ok {
			continue
		}
		for _, pair := range strings.Split(m[3], ",") {
			if k, _, ok := strings.Cut(pair, "="); ok && k != "le" {
				s.labels[k] = true
			}
		}
	}
	return out
}

// conditional metrics appear only in states this test does not drive:
// each entry says why.
var conditional = map[string]string{
	"passline_agent_outbox_drops_total":   "only after the outbox overflows or a decision expires",
	"passline_cloud_breaker_state":        "only when a breaker exists (phrase model, webhook or SMS configured)",
	"passline_bridge_input_ignored_total": "only with a USB bump bar or barcode scanner (firmware-bridge/app TestBridgeDevicesOverMQTT checks it)",
}

// TestMetricsAreExported runs cloud, agent and firmware-bridge, pushes an
// order through to its rider, prints one ticket through the bridge's
// print proxy and sends one malformed payload, then scrapes each program's
// /metrics and finds every metric configs/METRICS.md documents, with its
// type and labels; and every metric the alert rules use is documented.
func TestMetricsAreExported(t *testing.T) {
	store := uniqueID("metrics")
	cloud := startCloud(t, cloudConfig(t, ""))
	agent := startAgent(t, agentConfig(t, store, "", cloud.NATSURL()))
	waitUntil(t, 20*time.Second, "agent subscribed to MQTT", agent.MQTTConnected)
	bumpReachesRider(t, store, agent.MQTTURL(), cloud.NATSURL(), agent)
	bridge := startMeteredBridge(t, store, agent.MQTTURL())
	pub := mqttClient(t, agent.MQTTURL())
	topic := wire.Topic{Store: store, Device: wire.DevicePrinter, DeviceID: "printer-1", Event: wire.EventTicket}
	if tok := pub.Publish(topic.String(), 1, false, []byte("not json")); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish: %v", tok.Error())
	}
	waitUntil(t, 10*time.Second, "the malformed payload is rejected", func() bool {
		st, err := agent.Status()
		return err == nil && st.Rejects["malformed"] > 0
	})

	got := map[string]map[string]scraped{"agent": scrape(t, agent.HTTPAddr()), "cloud": scrape(t, cloud.HTTPAddr()),
		"firmware-bridge": scrape(t, bridge.HTTPAddr())}
	docs := readMetricsDoc(t)
	rows := map[string]int{}
	for _, d := range docs {
		rows[d.program]++
	}
	for program := range got {
		if rows[program] == 0 {
			t.Errorf("configs/METRICS.md documents no metric of %s", program)
		}
	}
	listed := map[string]bool{}
	for _, d := range docs {
		listed[d.name] = true
		s, ok := got[d.program][d.name]
		if !ok {
			if why, skip := conditional[d.name]; skip {
				t.Logf("%s not checked: %s", d.name, why)
				continue
			}
			t.Errorf("%s: documented for %s, not in its /metrics", d.name, d.program)
			continue
		}
		if s.typ != d.typ {
			t.Errorf("%s: type %s, documented %s", d.name, s.typ, d.typ)
		}
		for _, l := range strings.Split(d.labels, ",") {
			if l, _, _ = strings.Cut(strings.TrimSpace(l), "="); l != "" && !s.labels[l] {
				t.Errorf("%s: no label %q in the scrape (have %v)", d.name, l, s.labels)
			}
		}
	}
	for program, fams := range got {
		for name := range fams {
			if strings.HasPrefix(name, "passline_") && !listed[name] {
				t.Errorf("%s exports %s, which configs/METRICS.md does not document", program, name)
			}
		}
	}
	rules, err := os.ReadFile(filepath.Join("..", "configs", "alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range regexp.MustCompile(`passline_[a-z0-9_]+`).FindAllString(string(rules), -1) {
		base := strings.TrimSuffix(name, "_bucket")
		if !listed[base] {
			t.Errorf("alerts.yaml uses %s, which configs/METRICS.md does not document", name)
		}
	}
}

func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
