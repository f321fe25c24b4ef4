//go:build bench

package bench_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	agentapp "github.com/passline/passline/agent/app"
	agentmqtt "github.com/passline/passline/agent/mqtt"
	"github.com/passline/passline/cloud/natsd"
	"github.com/passline/passline/internal/freeport"
	"github.com/passline/passline/wire"
)

// BenchmarkAgentRSS runs the real passline-agent binary (built by the
// test) against an MQTT broker and a NATS server in this process, fills
// PASSLINE_BENCH_OPEN_ORDERS (default 1,000) open orders over MQTT and
// reads the agent process's VmRSS and VmHWM from /proc. Target: ≤ 40 MB.
func BenchmarkAgentRSS(b *testing.B) {
	orders := envInt("PASSLINE_BENCH_OPEN_ORDERS", 1000)
	bin := buildAgent(b)
	broker := &agentmqtt.Broker{Listen: "127.0.0.1:0", Log: quiet}
	if err := broker.Run(); err != nil {
		b.Fatal(err)
	}
	defer broker.Close()
	ns, err := natsd.Start(natsd.Options{Listen: "127.0.0.1:0", StoreDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer ns.Shutdown()

	store, dir, httpAddr := "rss1", b.TempDir(), freeport.Addr(b)
	cfgPath := filepath.Join(dir, "agent.yaml")
	yaml := fmt.Sprintf("store: %s\ndata_dir: %s\nlog_level: warn\nmqtt:\n  url: %s\nnats:\n  url: %s\nhttp:\n  listen: %s\ningest:\n  auto_start: true\n",
		store, filepath.Join(dir, "state"), broker.URL(), ns.ClientURL(), httpAddr)
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, "-config", cfgPath, "run")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	pid := strconv.Itoa(cmd.Process.Pid)
	var st agentapp.Status
	if !waitFor(60*time.Second, func() bool {
		st, err = agentStatus(httpAddr)
		return err == nil && st.Links.MQTT.Connected && st.Links.NATS.Connected
	}) {
		b.Fatalf("agent not connected in 60s: %+v %v", st.Links, err)
	}
	time.Sleep(2 * time.Second)
	idle := statusKB(pid, "VmRSS")

	pub := mqttClient(b, broker.URL(), "rss-pub")
	defer pub.Disconnect(100)
	now := time.Now().UTC()
	var toks []paho.Token
	for i := range orders {
		ev := wire.Event{ID: fmt.Sprintf("t-%d", i), Kind: wire.EventTicket, Store: store, DeviceID: "printer-1", At: now,
			Ticket: &wire.Ticket{OrderID: fmt.Sprintf("o-%d", i), ShortCode: fmt.Sprintf("#%d", i),
				Items: []wire.Item{{SKU: "KP01", Qty: 2, Station: "wok"}, {SKU: "FR02", Qty: 1, Station: "wok"}, {SKU: "MT40", Qty: 1, Station: "drinks"}}}}
		p, err := ev.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		toks = append(toks, pub.Publish(wire.Topic{Store: store, Device: wire.DevicePrinter, DeviceID: "printer-1", Event: wire.EventTicket}.String(), 1, false, p))
	}
	for _, t := range toks {
		if !t.WaitTimeout(60*time.Second) || t.Error() != nil {
			b.Fatalf("publish: %v", t.Error())
		}
	}
	if !waitFor(120*time.Second, func() bool {
		st, err = agentStatus(httpAddr)
		return err == nil && len(st.OpenOrders) >= orders
	}) {
		b.Fatalf("agent has %d open orders, want %d (%v)", len(st.OpenOrders), orders, err)
	}
	// A few decision rounds over the full kitchen (retry_interval 30 s is
	// the steady state; events already re-evaluated every order).
	time.Sleep(5 * time.Second)
	res := rssResult{orders: len(st.OpenOrders), idleKB: idle, rssKB: statusKB(pid, "VmRSS"), hwmKB: statusKB(pid, "VmHWM"), dbBytes: st.StateDB.FileBytes}
	fmt.Printf("\n%s\n", res.String())
	report.rss = &res
	if res.rssKB > 40*1024 {
		b.Errorf("agent RSS %d kB with %d open orders, target ≤ 40 MB", res.rssKB, res.orders)
	}
}

type rssResult struct {
	orders               int
	idleKB, rssKB, hwmKB int64
	dbBytes              int64
}

func (r rssResult) String() string {
	return fmt.Sprintf("passline-agent process (real binary, external broker and NATS): idle VmRSS %.1f MB; with %d open orders VmRSS %.1f MB, peak VmHWM %.1f MB (target ≤ 40 MB: %v); state db %.1f MB",
		float64(r.idleKB)/1024, r.orders, float64(r.rssKB)/1024, float64(r.hwmKB)/1024, r.rssKB <= 40*1024, float64(r.dbBytes)/(1<<20))
}

// buildAgent builds passline-agent into a temp dir.
func buildAgent(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "passline-agent")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/passline/passline/agent/cmd/passline-agent").CombinedOutput()
	if err != nil {
		tb.Fatalf("build passline-agent: %v\n%s", err, out)
	}
	return bin
}

func agentStatus(addr string) (agentapp.Status, error) {
	var st agentapp.Status
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("status: %s", resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}
