package app_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/passline/passline/cloud/breaker"
	"github.com/passline/passline/cloud/config"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/cloud/platform/platformtest"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/wire"
)

// chaosFault is how long the platform fake fails: 8 s in the default
// run, PASSLINE_PLATFORM_CHAOS (a Go duration, e.g. 1m; `make
// chaos-platform`) for the long version.
func chaosFault(t *testing.T) time.Duration {
	v := os.Getenv("PASSLINE_PLATFORM_CHAOS")
	if v == "" {
		return 8 * time.Second
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("PASSLINE_PLATFORM_CHAOS=%q: %v", v, err)
	}
	return d
}

// TestPlatformChaos: the Deliveroo fake answers every call with 500s and
// 429s (Retry-After: 1), some of the 500s after applying the call (a lost
// answer), for the fault while bumped orders keep coming through the real
// relay. Afterwards every decision reached Deliveroo
// exactly once (the fake applies a call once per Idempotency-Key and
// counts repeats), and the rider channel was not slowed: its latency
// during the fault stays within a bound of its latency before.
func TestPlatformChaos(t *testing.T) {
	fault := chaosFault(t)
	fake := platformtest.Deliveroo(t, "cid", "csecret", "tok")
	m, b := platformRelay(t, platform.Credentials{Platform: platform.Deliveroo, PlatformStoreID: "4163", BaseURL: fake.URL(),
		TokenURL: fake.URL() + "/oauth2/token", ClientID: "cid", ClientSecret: "csecret", WebhookSecret: "w"}, func(cfg *config.Config) {
		cfg.Platform.Breaker = breaker.Config{Failures: 5, CoolDown: 500 * time.Millisecond}
		// Redeliveries must outlast the fault: a decision given up on is
		// dead-lettered and never reaches the platform.
		cfg.Consumer.Backoff = []time.Duration{200 * time.Millisecond, 500 * time.Millisecond, time.Second}
		cfg.Consumer.MaxDeliver = int(fault/time.Second) + 30
	})
	ctx := context.Background()
	nc, js := relaytest.Connect(t, m.NATSURL())
	lat := riderLatency(t, nc)
	orders := natsjs.PlatformOrders{KV: b.Orders}

	send := func(i int) string {
		id := fmt.Sprintf("c%03d", i)
		order := fmt.Sprintf("o%03d", i)
		if _, err := orders.Update(ctx, "s1", order, func(o *platform.Order) error {
			*o = platform.Order{Store: "s1", OrderID: order, Platform: platform.Deliveroo, PlatformID: "gb:" + order, Status: "accepted"}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if err := relaytest.Assign(nc, "s1", order, "rider-1"); err != nil {
			t.Fatal(err)
		}
		lat.sent(id)
		if err := relaytest.Publish(ctx, js, relaytest.Decision(id, "s1", order, wire.KindReady)); err != nil {
			t.Fatal(err)
		}
		return id
	}
	var ids []string
	for i := range 10 { // baseline
		ids = append(ids, send(i))
		time.Sleep(50 * time.Millisecond)
	}
	if !relaytest.WaitFor(10*time.Second, func() bool { return lat.count() == 10 }) {
		t.Fatal("baseline decisions did not reach the rider")
	}
	before := lat.snapshot()
	fake.FailFor(fault)
	start := time.Now()
	for i := 10; time.Since(start) < fault-time.Second; i++ {
		ids = append(ids, send(i))
		time.Sleep(100 * time.Millisecond)
	}
	if !relaytest.WaitFor(fault+60*time.Second, func() bool { return len(fake.PerKey()) == len(ids) }) {
		t.Fatalf("after the fault %d of %d decisions reached Deliveroo", len(fake.PerKey()), len(ids))
	}
	time.Sleep(time.Second) // let late repeats arrive
	per := fake.PerKey()
	for _, id := range ids {
		if per[id] != 1 {
			t.Errorf("decision %s applied %d times, want exactly once", id, per[id])
		}
	}
	attempts, faults, dups := fake.Counts()
	during := lat.snapshot()[len(before):]
	p50b, p95b := percentiles(before)
	p50d, p95d := percentiles(during)
	t.Logf("fault %v: %d decisions, Deliveroo saw %d requests, %d faults, %d repeats answered from the idempotency key", fault, len(ids), attempts, faults, dups)
	t.Logf("rider latency before p50 %v p95 %v; during the fault p50 %v p95 %v", p50b, p95b, p50d, p95d)
	if faults == 0 || dups == 0 {
		t.Fatalf("the fake failed %d times and answered %d repeats: the test tested nothing", faults, dups)
	}
	if bound := 3*p95b + 500*time.Millisecond; p95d > bound {
		t.Errorf("rider channel slowed by the platform fault: p95 %v during, %v before (bound %v)", p95d, p95b, bound)
	}
}

// latency records, per decision, the time from publish to the rider's
// notification.
type latency struct {
	mu   sync.Mutex
	at   map[string]time.Time
	got  []time.Duration
	seen map[string]bool
}

func riderLatency(t *testing.T, nc *nats.Conn) *latency {
	l := &latency{at: map[string]time.Time{}, seen: map[string]bool{}}
	sub, err := nc.Subscribe(wire.RiderWildcard, func(msg *nats.Msg) {
		n, err := wire.DecodeNotification(msg.Data)
		if err != nil {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		if sent, ok := l.at[n.ID]; ok && !l.seen[n.ID] {
			l.seen[n.ID] = true
			l.got = append(l.got, time.Since(sent))
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return l
}

func (l *latency) sent(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.at[id] = time.Now()
}

func (l *latency) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.got)
}

func (l *latency) snapshot() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.got)
}

func percentiles(d []time.Duration) (p50, p95 time.Duration) {
	if len(d) == 0 {
		return 0, 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2], s[(len(s)*95)/100]
}
