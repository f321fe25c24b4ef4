package main_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/passline/passline/agent/app"
	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/agent/priorsync"
	"github.com/passline/passline/internal/freeport"
	"github.com/passline/passline/wire"
)

// TestFleetPriorReachesAgentProcess runs the passline-agent binary on an
// embedded nats-server: the fleet prior put under the store's category
// in KV PASSLINE_MODEL_PRIOR is applied by the running process (its status
// page says so and a new order gets ready_soon at once on a 90 s prior),
// and a malformed prior is refused while the good one is kept.
func TestFleetPriorReachesAgentProcess(t *testing.T) {
	n := at.StartNATS(t, t.TempDir(), -1)
	priors := at.PriorBucket(t, n.URL())
	dir, mqttAddr, httpAddr := t.TempDir(), freeport.Addr(t), freeport.Addr(t)
	cfg := writeConfig(t, dir, "s1", "embedded: {enabled: true, listen: "+strconv.Quote(mqttAddr)+"}", n.URL(), httpAddr)
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("category: noodles\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	startAgent(t, cfg, dir)
	at.Eventually(t, 30*time.Second, "agent status page up", func() bool { return mqttConnected(httpAddr) })
	pub := at.Publisher(t, "tcp://"+mqttAddr)
	ctx := context.Background()

	put := func(v []byte) uint64 {
		rev, err := priors.Put(ctx, "noodles", v)
		if err != nil {
			t.Fatal(err)
		}
		at.Eventually(t, 20*time.Second, "prior revision handled by the agent", func() bool {
			p := priorStatus(t, httpAddr)
			return p.Applied == rev || p.Refused == rev
		})
		return rev
	}
	readySoon := func(order string) {
		at.Publish(t, pub, at.Ticket("s1", order, "wok", time.Now()))
		at.Eventually(t, 20*time.Second, "ready_soon for "+order, func() bool {
			for _, d := range at.Decisions(t, n.URL()) {
				if d.OrderID == order && d.Kind == wire.KindReadySoon {
					return true
				}
			}
			return false
		})
	}

	good := put(at.FleetPrior(t, "noodles", 90))
	if p := priorStatus(t, httpAddr); p.Applied != good || p.Category != "noodles" {
		t.Fatalf("prior status %+v, want revision %d of noodles applied", p, good)
	}
	readySoon("o1")
	bad := put([]byte(`{"version":1,"beta":[4.5],"sigma":-1,"tau":0.2}`))
	if p := priorStatus(t, httpAddr); p.Applied != good || p.Refused != bad || p.Reason == "" {
		t.Fatalf("prior status %+v, want %d applied and %d refused with a reason", p, good, bad)
	}
	readySoon("o2") // still on the good prior
}

// priorStatus reads the fleet prior's status from the agent's status page.
func priorStatus(t *testing.T, addr string) priorsync.Status {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st app.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	if st.Prior == nil {
		return priorsync.Status{}
	}
	return *st.Prior
}
