package quota_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/cloud/quota"
	"github.com/passline/passline/wire"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time      { return c.t }
func (c *clock) Add(d time.Duration) { c.t = c.t.Add(d) }

func testConfig() quota.Config {
	cfg := quota.DefaultConfig()
	cfg.Tiers = map[string]quota.Tier{
		"free":       {PerMinute: 6, Burst: 2}, // one token per 10 s
		"enterprise": {PerMinute: 0},           // unlimited
	}
	cfg.DefaultTier = "free"
	cfg.Merchants = map[string]string{"big": "enterprise"}
	return cfg
}

// step is one Allow call after advancing the clock by wait.
type step struct {
	wait     time.Duration
	merchant string
	order    string
	kind     wire.DecisionKind
	ok       bool
	reason   quota.Reason
}

func TestAllow(t *testing.T) {
	soon, eta, ready, cancelled := wire.KindReadySoon, wire.KindETA, wire.KindReady, wire.KindCancelled
	tests := []struct {
		name  string
		steps []step
	}{
		{"free tier burst then refill", []step{
			{0, "m", "o1", soon, true, ""},
			{0, "m", "o2", soon, true, ""},
			{0, "m", "o3", soon, false, quota.ReasonTier},
			{10 * time.Second, "m", "o3", soon, true, ""},
		}},
		{"critical kinds pass an empty bucket", []step{
			{0, "m", "o1", soon, true, ""},
			{0, "m", "o2", soon, true, ""},
			{0, "m", "o1", ready, true, ""},
			{0, "m", "o2", cancelled, true, ""},
			{0, "m", "o3", wire.KindDelayed, false, quota.ReasonTier},
		}},
		{"one eta per order per minute", []step{
			{0, "big", "o1", eta, true, ""},
			{30 * time.Second, "big", "o1", eta, false, quota.ReasonETA},
			{0, "big", "o2", eta, true, ""},
			{0, "big", "o1", soon, true, ""},
			{30 * time.Second, "big", "o1", eta, true, ""},
			{59 * time.Second, "big", "o1", eta, false, quota.ReasonETA},
		}},
		{"eta refused by tier does not start the minute", []step{
			{0, "m", "o1", soon, true, ""},
			{0, "m", "o2", soon, true, ""},
			{0, "m", "o3", eta, false, quota.ReasonTier},
			{10 * time.Second, "m", "o3", eta, true, ""},
		}},
		{"merchants are independent", []step{
			{0, "a", "o1", soon, true, ""},
			{0, "a", "o2", soon, true, ""},
			{0, "a", "o3", soon, false, quota.ReasonTier},
			{0, "b", "o3", soon, true, ""},
		}},
		{"enterprise is unlimited", repeat(step{0, "big", "", soon, true, ""}, 1000)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
			l, err := quota.New(testConfig(), clk.Now)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range tt.steps {
				clk.Add(s.wait)
				ok, reason := l.Allow(s.merchant, "s1", s.order, s.kind)
				if ok != s.ok || reason != s.reason {
					t.Fatalf("step %d (%s %s %s): Allow = %v %q, want %v %q", i, s.merchant, s.order, s.kind, ok, reason, s.ok, s.reason)
				}
			}
		})
	}
}

func repeat(s step, n int) []step {
	out := make([]step, n)
	for i := range out {
		out[i] = s
		out[i].order = fmt.Sprint("o", i)
	}
	return out
}

func TestSetTier(t *testing.T) {
	clk := &clock{t: time.Now()}
	l, _ := quota.New(testConfig(), clk.Now)
	l.Allow("m", "s", "o1", wire.KindReadySoon)
	l.Allow("m", "s", "o2", wire.KindReadySoon)
	if ok, _ := l.Allow("m", "s", "o3", wire.KindReadySoon); ok {
		t.Fatal("free tier allowed a third at once")
	}
	if err := l.SetTier("m", "enterprise"); err != nil {
		t.Fatal(err)
	}
	if ok, r := l.Allow("m", "s", "o3", wire.KindReadySoon); !ok {
		t.Fatalf("after upgrade to enterprise: refused (%s)", r)
	}
	if err := l.SetTier("m", "gold"); err == nil {
		t.Fatal("SetTier accepted an unknown tier")
	}
}

func TestMemoryBounded(t *testing.T) {
	cfg := testConfig()
	cfg.MaxOrders, cfg.MaxMerchants = 100, 50
	clk := &clock{t: time.Now()}
	l, _ := quota.New(cfg, clk.Now)
	for i := range 1000 {
		l.Allow("big", "s", fmt.Sprint("o", i), wire.KindETA)
		l.Allow(fmt.Sprint("m", i), "s", "x", wire.KindReadySoon)
		clk.Add(time.Second) // buckets of 10 s refill: swept merchants lose nothing
	}
	merchants, orders := l.Tracked()
	if orders > 100 || merchants > 51 {
		t.Fatalf("tracking %d merchants, %d orders; bounds are 50 and 100", merchants, orders)
	}
	// The newest orders are still limited; after a minute, nothing is held.
	if ok, _ := l.Allow("big", "s", "o999", wire.KindETA); ok {
		t.Fatal("newest order's eta forgotten")
	}
	clk.Add(time.Minute)
	l.Allow("big", "s", "fresh", wire.KindReadySoon)
	if _, orders := l.Tracked(); orders != 0 {
		t.Fatalf("%d eta entries kept after the interval", orders)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		mutate func(*quota.Config)
		want   string
	}{
		{func(c *quota.Config) { c.DefaultTier = "gold" }, "limits.default_tier"},
		{func(c *quota.Config) { c.Merchants = map[string]string{"m": "gold"} }, "limits.merchants.m"},
		{func(c *quota.Config) { c.Tiers["free"] = quota.Tier{PerMinute: 5} }, "limits.tiers.free"},
		{func(c *quota.Config) { c.ETAInterval = -time.Second }, "limits.eta_interval"},
		{func(c *quota.Config) { c.MaxOrders = 0 }, "limits.max_orders"},
	}
	for _, tt := range tests {
		cfg := quota.DefaultConfig()
		tt.mutate(&cfg)
		if err := cfg.Validate("limits"); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("Validate = %v, want prefix %q", err, tt.want)
		}
	}
	if err := quota.DefaultConfig().Validate("limits"); err != nil {
		t.Errorf("default config: %v", err)
	}
}

// BenchmarkAllow: 1,000 merchants, 50,000 orders, eta updates.
func BenchmarkAllow(b *testing.B) {
	l, _ := quota.New(quota.DefaultConfig(), nil)
	merchants, orders := make([]string, 1000), make([]string, 50000)
	for i := range merchants {
		merchants[i] = fmt.Sprint("m", i)
	}
	for i := range orders {
		orders[i] = fmt.Sprint("o", i)
	}
	for i := 0; b.Loop(); i++ {
		l.Allow(merchants[i%len(merchants)], "s", orders[i%len(orders)], wire.KindETA)
	}
}

func TestAllowDecisionRedeliveryAndNoInterval(t *testing.T) {
	clk := &clock{t: time.Now()}
	l, _ := quota.New(testConfig(), clk.Now)
	d := wire.Decision{ID: "eta-1", Store: "s1", OrderID: "o1", Kind: wire.KindETA}
	if ok, _ := l.AllowDecision("big", d); !ok {
		t.Fatal("first eta refused")
	}
	clk.Add(10 * time.Second)
	if ok, r := l.AllowDecision("big", d); !ok {
		t.Fatalf("redelivery of the allowed eta refused (%s)", r)
	}
	d2 := d
	d2.ID = "eta-2"
	if ok, r := l.AllowDecision("big", d2); ok || r != quota.ReasonETA {
		t.Fatalf("a second eta decision within the minute: %v %q", ok, r)
	}
	clk.Add(50 * time.Second) // a minute after the first, not after the redelivery
	if ok, _ := l.AllowDecision("big", d2); !ok {
		t.Fatal("second eta refused a minute after the first")
	}

	cfg := testConfig()
	cfg.ETAInterval = 0 // eta limited elsewhere (the relay does it cluster-wide)
	l, _ = quota.New(cfg, clk.Now)
	for i := range 10 {
		if ok, _ := l.Allow("big", "s1", "o1", wire.KindETA); !ok {
			t.Fatalf("eta %d refused with no interval", i)
		}
	}
	if _, orders := l.Tracked(); orders != 0 {
		t.Fatalf("%d eta entries kept with no interval", orders)
	}
}
