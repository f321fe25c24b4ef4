package chaos_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/wire"
)

// readStream returns every message's data in stream name, in order, read
// with an ordered consumer (the stream's own record).
func readStream(t *testing.T, js jetstream.JetStream, name string) [][]byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		t.Fatalf("stream %s: %v", name, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	total := info.State.Msgs
	if total == 0 {
		return nil
	}
	c, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for empty := 0; uint64(len(out)) < total; {
		// ask for no more than is left: a short batch waits out MaxWait
		batch, err := c.Fetch(min(512, int(total)-len(out)), jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatalf("read %s: %v", name, err)
		}
		n := 0
		for m := range batch.Messages() {
			out = append(out, m.Data())
			n++
		}
		if err := batch.Error(); err != nil {
			t.Logf("read %s: batch after %d of %d: %v", name, len(out), total, err)
		}
		// An ordered consumer that resets (a gap or a missed heartbeat on
		// a loaded machine) answers a fetch with nothing: only several
		// empty answers in a row mean the stream has no more.
		if n > 0 {
			empty = 0
			continue
		}
		if empty++; empty == 4 {
			t.Fatalf("read %s: %d of %d, then nothing in 4 fetches of 5 s", name, len(out), total)
		}
	}
	return out
}

// deliveryKey is what must reach the rider once: a decision's
// notification, and separately the one re-send of a ready its rider did not
// ack (relay.ready_resend; the chaos riders never ack), which carries the
// same decision id marked resent. So a second re-send is a duplicate too.
func deliveryKey(n wire.Notification) string {
	if n.Resent {
		return n.ID + " (re-send)"
	}
	return n.ID
}

// wireRiders records what arrives on the rider subjects live, to catch a
// duplicate the outbox stream would have hidden.
type wireRiders struct {
	mu    sync.Mutex
	count map[string]int // deliveryKey → messages
	bad   int
}

func subscribeWire(t *testing.T, url string) *wireRiders {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	w := &wireRiders{count: map[string]int{}}
	sub, err := nc.Subscribe(wire.RiderWildcard, func(m *nats.Msg) {
		n, err := wire.DecodeNotification(m.Data)
		w.mu.Lock()
		defer w.mu.Unlock()
		if err != nil {
			w.bad++
			return
		}
		w.count[deliveryKey(n)]++
	})
	if err != nil {
		t.Fatal(err)
	}
	_ = sub.SetPendingLimits(-1, -1)
	return w
}

// verdict is the end-of-run check.
type verdict struct {
	expected, decisions, readyDecisions, notifications int
	dlq                                                int
	violations                                         map[string]int
	examples                                           []string
}

func (v *verdict) add(kind, example string) {
	v.violations[kind]++
	if len(v.examples) < 20 {
		v.examples = append(v.examples, kind+": "+example)
	}
}

func (v *verdict) total() int {
	n := 0
	for _, c := range v.violations {
		n += c
	}
	return n
}

// check compares the kitchens' acknowledged orders with DECISIONS (what
// JetStream acknowledged to the agents), RIDER_OUTBOX (what the relay
// delivered to riders) and the live rider subjects.
func check(t *testing.T, js jetstream.JetStream, expected map[string]bool, live *wireRiders) *verdict {
	t.Helper()
	v := &verdict{expected: len(expected), violations: map[string]int{}}
	readyIDs := map[string]map[string]bool{} // store/order → ready decision ids
	readyDecision := map[string]string{}     // decision id → store/order
	for _, b := range readStream(t, js, wire.StreamDecisions) {
		d, err := wire.DecodeDecision(b)
		if err != nil {
			v.add("unreadable decision", err.Error())
			continue
		}
		v.decisions++
		if d.Kind != wire.KindReady {
			continue
		}
		k := d.Store + "/" + d.OrderID
		if readyIDs[k] == nil {
			readyIDs[k] = map[string]bool{}
		}
		readyIDs[k][d.ID] = true
		readyDecision[d.ID] = k
	}
	v.readyDecisions = len(readyDecision)
	delivered := map[string]int{}           // deliveryKey → outbox records
	readyTo := map[string]map[string]bool{} // store/order → ready decision ids delivered
	for _, b := range readStream(t, js, natsjs.StreamOutbox) {
		n, err := wire.DecodeNotification(b)
		if err != nil {
			v.add("unreadable notification", err.Error())
			continue
		}
		v.notifications++
		delivered[deliveryKey(n)]++
		if n.Kind == wire.KindReady {
			k := n.Store + "/" + n.OrderID
			if readyTo[k] == nil {
				readyTo[k] = map[string]bool{}
			}
			readyTo[k][n.ID] = true
		}
	}
	v.dlq = len(readStream(t, js, natsjs.StreamDLQ))
	keys := make([]string, 0, len(expected))
	for k := range expected {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch n := len(readyIDs[k]); {
		case n == 0:
			v.add("acknowledged bump produced no ready decision", k)
		case n > 1:
			v.add("order produced several ready decisions", fmt.Sprintf("%s: %d", k, n))
		}
		if got := len(readyTo[k]); got != 1 {
			v.add("order's rider did not get exactly one ready", fmt.Sprintf("%s: %d", k, got))
		}
	}
	for id, k := range readyDecision {
		if delivered[id] == 0 {
			v.add("acknowledged ready decision never delivered", id+" "+k)
		}
	}
	for id, c := range delivered {
		if c > 1 {
			v.add("rider message duplicated in RIDER_OUTBOX", fmt.Sprintf("%s ×%d", id, c))
		}
	}
	live.mu.Lock()
	for id, c := range live.count {
		if c > 1 {
			v.add("rider message duplicated on the wire", fmt.Sprintf("%s ×%d", id, c))
		}
	}
	if live.bad > 0 {
		v.add("unreadable rider message on the wire", fmt.Sprint(live.bad))
	}
	live.mu.Unlock()
	if v.dlq > 0 {
		v.add("decisions dead-lettered", fmt.Sprint(v.dlq))
	}
	return v
}
