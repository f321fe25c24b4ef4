package chaos_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// world is everything the run starts.
type world struct {
	t      *testing.T
	nats   *cluster
	broker *broker
	uplink *proxy // store 0's only way to NATS
	agents []*agentProc
	relays []*proc
	faults map[string]int
}

// TestChaos runs real passline-agent and passline-cloud processes, a
// 3-node JetStream cluster and the MQTT broker in this process, with
// simulated kitchens publishing steadily. Faults are injected one after
// another for the configured duration — SIGKILL an agent, stop and restart
// a NATS node, SIGKILL a relay, restart the MQTT broker, SIGSTOP a process
// for 8 s (longer than the relays' 5 s ack wait) — while store 0's uplink
// is cut (20 s in the short run, 2 minutes in the long one). At the end
// every acknowledged order must have produced exactly one ready to its
// rider, no rider message may be duplicated, every decision JetStream
// acknowledged must have been delivered, and every fault kind must have
// been injected. The short run is the default; see load.
func TestChaos(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos run: starts real processes for over a minute")
	}
	s := load(t)
	agentBin, cloudBin := buildBinaries(t)
	w := &world{t: t, faults: map[string]int{}}
	w.nats = startCluster(t)
	w.broker = startBroker(t)
	w.uplink = startProxy(t, w.nats.opts[0].Host+":"+strconv.Itoa(w.nats.opts[0].Port))
	dir := t.TempDir()
	for i := range 2 {
		r := newRelay(t, cloudBin, filepath.Join(dir, fmt.Sprintf("relay%d", i)), fmt.Sprintf("relay %d", i), w.nats.url())
		w.relays = append(w.relays, r)
	}
	must(t, w.relays[0].supervise(t)) // creates the streams
	must(t, w.relays[1].supervise(t))
	var stores []string
	for i := range s.stores {
		store := fmt.Sprintf("chaos%d", i)
		url := w.nats.nodeURL(0) // node 1 is never stopped; nodes 2 and 3 are
		if i == 0 {
			url = "nats://" + w.uplink.addr()
		}
		d := filepath.Join(dir, store)
		must(t, os.MkdirAll(d, 0o750))
		a := newAgent(t, agentBin, d, store, w.broker.url(), url)
		must(t, a.start())
		w.agents = append(w.agents, a)
		stores = append(stores, store)
	}
	t.Cleanup(func() {
		for _, a := range w.agents {
			a.stop()
		}
		for _, r := range w.relays {
			r.stop()
		}
	})
	w.waitAgents(60 * time.Second)
	live := subscribeWire(t, w.nats.nodeURL(0))
	tr := newTracker(t, w.broker.url())
	kitchens := startKitchens(t, tr, stores, s.ordersPerSec)

	start := time.Now()
	cutAt, restoreAt := start.Add(s.duration/10), start.Add(s.duration/10+s.uplinkCut)
	cut, cutDone := false, false
	for i := 0; i < s.maxFaults && time.Since(start) < s.duration; i++ {
		switch {
		case !cut && !cutDone && time.Now().After(cutAt):
			t.Logf("%s: cutting store %s's uplink for %s", since(start), w.agents[0].store, s.uplinkCut)
			w.uplink.cut()
			w.faults["uplink cut"]++
			cut = true
		case cut && time.Now().After(restoreAt):
			t.Logf("%s: restoring store %s's uplink", since(start), w.agents[0].store)
			w.uplink.restore()
			cut, cutDone = false, true
		}
		w.inject(i, s)
		time.Sleep(s.gap)
	}
	if cut {
		w.uplink.restore()
	}
	t.Logf("%s: faults over; stopping the kitchens", since(start))
	close(tr.stop)
	_ = kitchens.Close()
	w.settle(s.settle)

	nc, err := nats.Connect(w.nats.url())
	must(t, err)
	defer nc.Close()
	js, err := jetstream.New(nc)
	must(t, err)
	v := check(t, js, tr.expected(), live)
	total := 0
	for _, n := range w.faults {
		total += n
	}
	tr.mu.Lock()
	t.Logf("load: %d events acknowledged by the broker, %d publish retries, %d given up", tr.publishd, tr.retries, tr.failed)
	tr.mu.Unlock()
	fmt.Printf("\nchaos run: %s of faults, %d stores, 2 relays, 3 NATS nodes\n", s.duration, s.stores)
	fmt.Printf("  faults injected: %d %v\n", total, w.faults)
	fmt.Printf("  orders acknowledged (ticket and bump): %d; decisions in DECISIONS: %d (ready %d); rider messages in RIDER_OUTBOX: %d; dead-lettered: %d\n",
		v.expected, v.decisions, v.readyDecisions, v.notifications, v.dlq)
	fmt.Printf("  violations: %d %v\n", v.total(), v.violations)
	for _, e := range v.examples {
		fmt.Printf("    %s\n", e)
	}
	if miss := missingKinds(w.faults); len(miss) > 0 {
		t.Errorf("fault kinds never injected: %v", miss)
	}
	if v.expected == 0 {
		t.Fatal("no order was acknowledged: the run proved nothing")
	}
	if v.total() > 0 {
		t.Fatalf("%d violations", v.total())
	}
}

// inject runs fault number i: kinds take turns.
func (w *world) inject(i int, s settings) {
	t := w.t
	k := i / 5
	switch i % 5 {
	case 0:
		a := w.agents[k%len(w.agents)]
		a.kill()
		w.faults["agent SIGKILL"]++
		time.Sleep(500 * time.Millisecond)
		must(t, a.supervise(t))
	case 1:
		node := 1 + k%2 // node 2 or 3
		w.nats.stop(node)
		w.faults["NATS node stop"]++
		time.Sleep(3 * time.Second)
		must(t, w.nats.start(node))
		if !waitFor(60*time.Second, w.nats.healthy) {
			t.Logf("NATS node %d not current 60s after restart", node+1)
		}
	case 2:
		r := w.relays[k%2]
		r.kill()
		w.faults["relay SIGKILL"]++
		time.Sleep(500 * time.Millisecond)
		must(t, r.supervise(t))
	case 3:
		w.broker.stop()
		w.faults["MQTT broker restart"]++
		time.Sleep(time.Second)
		must(t, w.broker.start())
	case 4:
		var p *proc
		if k%2 == 0 {
			p = w.relays[(k/2)%2]
		} else {
			p = w.agents[(k/2)%len(w.agents)].proc
		}
		if err := p.signal(syscall.SIGSTOP); err != nil {
			t.Logf("SIGSTOP %s: %v", p.name, err)
			return
		}
		w.faults["SIGSTOP/SIGCONT"]++
		time.Sleep(s.pause)
		must(t, p.signal(syscall.SIGCONT))
	}
}

// waitAgents waits until every agent reports MQTT and NATS connected.
func (w *world) waitAgents(timeout time.Duration) {
	ok := waitFor(timeout, func() bool {
		for _, a := range w.agents {
			st, err := a.status()
			if err != nil || !st.Links.MQTT.Connected || !st.Links.NATS.Connected {
				return false
			}
		}
		return true
	})
	if !ok {
		w.t.Fatalf("agents not connected within %s", timeout)
	}
}

// settle waits until the agents' outboxes and ingest queues are empty and
// the relays' consumer has nothing pending, then two ack waits more.
func (w *world) settle(timeout time.Duration) {
	t := w.t
	w.waitAgents(timeout)
	ok := waitFor(timeout, func() bool {
		for _, a := range w.agents {
			st, err := a.status()
			if err != nil || st.Outbox.Depth > 0 || st.Ingest.Queue > 0 {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Logf("agents' outboxes not empty after %s", timeout)
	}
	nc, err := nats.Connect(w.nats.url())
	must(t, err)
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ok = waitFor(timeout, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		c, err := js.Consumer(ctx, "DECISIONS", "relay")
		if err != nil {
			return false
		}
		info, err := c.Info(ctx)
		return err == nil && info.NumPending == 0 && info.NumAckPending == 0
	})
	if !ok {
		t.Logf("relay consumer still has pending decisions after %s", timeout)
	}
	time.Sleep(10 * time.Second) // two ack waits: any redelivery shows
}

func waitFor(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func since(t time.Time) string { return time.Since(t).Round(time.Second).String() }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
