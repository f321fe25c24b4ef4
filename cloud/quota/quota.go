// Package quota guards the relay's outgoing side: it decides whether a
// notification to a rider or merchant may go out now. Each merchant has a
// token bucket sized by its tier (free, standard, enterprise, ... from the
// `limits` config section), and each order gets at most one eta update per
// ETAInterval (one minute by default). Critical kinds (ready, cancelled;
// wire.DecisionKind.Critical) are always allowed and consume nothing: a
// quota never drops them. Incoming API calls are limited by package
// ratelimit, not here.
//
// Memory is bounded: eta entries older than ETAInterval are evicted as time
// passes, and when MaxOrders are tracked the oldest entry is evicted early
// (that order may then get one extra eta, never fewer). Merchant buckets
// that are full again are forgotten when more than MaxMerchants exist,
// which loses nothing.
//
// A refused notification is acked without delivery and counted by Reason.
// Quotas are per relay process: with N replicas a merchant's effective rate
// is up to N times its tier.
package quota

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/passline/passline/wire"
	"golang.org/x/time/rate"
)

// Reason says why a notification was refused; it is a stable metric label.
type Reason string

// Refusal reasons.
const (
	ReasonTier = Reason("tier_limit")   // the merchant's bucket is empty
	ReasonETA  = Reason("eta_interval") // an eta for this order went out less than ETAInterval ago
)

// Tier is a merchant tier's sustained rate and burst.
type Tier struct {
	// PerMinute is the sustained notifications per minute; 0 means no limit.
	PerMinute float64 `yaml:"per_minute"`
	// Burst is how many may go at once after a quiet spell.
	Burst int `yaml:"burst"`
}

// Config is the limits section of the relay config.
type Config struct {
	// Tiers by name.
	Tiers map[string]Tier `yaml:"tiers"`
	// DefaultTier applies to merchants not listed in Merchants.
	DefaultTier string `yaml:"default_tier"`
	// Merchants maps merchant id to tier name.
	Merchants map[string]string `yaml:"merchants"`
	// ETAInterval is the shortest gap between two eta updates of one order.
	ETAInterval time.Duration `yaml:"eta_interval"`
	// MaxOrders bounds the orders whose last eta is remembered.
	MaxOrders int `yaml:"max_orders"`
	// MaxMerchants is the merchant count above which idle buckets are swept.
	MaxMerchants int `yaml:"max_merchants"`
}

// DefaultConfig has tiers free (30/min, burst 10), standard (300/min,
// burst 50) and enterprise (3000/min, burst 500), default tier standard,
// one eta per order per minute, 200,000 orders and 100,000 merchants.
func DefaultConfig() Config {
	return Config{
		Tiers: map[string]Tier{
			"free":       {PerMinute: 30, Burst: 10},
			"standard":   {PerMinute: 300, Burst: 50},
			"enterprise": {PerMinute: 3000, Burst: 500},
		},
		DefaultTier:  "standard",
		ETAInterval:  time.Minute,
		MaxOrders:    200_000,
		MaxMerchants: 100_000,
	}
}

// Validate checks the fields; prefix names the section (e.g. "limits").
func (c Config) Validate(prefix string) error {
	for name, t := range c.Tiers {
		if t.PerMinute < 0 || math.IsNaN(t.PerMinute) || (t.PerMinute > 0 && t.Burst < 1) {
			return fmt.Errorf("%s.tiers.%s: per_minute %v / burst %d: need per_minute >= 0 and burst >= 1", prefix, name, t.PerMinute, t.Burst)
		}
	}
	if _, ok := c.Tiers[c.DefaultTier]; !ok {
		return fmt.Errorf("%s.default_tier: %q is not a configured tier", prefix, c.DefaultTier)
	}
	for m, tier := range c.Merchants {
		if _, ok := c.Tiers[tier]; !ok {
			return fmt.Errorf("%s.merchants.%s: tier %q is not configured", prefix, m, tier)
		}
	}
	if c.ETAInterval < 0 {
		return fmt.Errorf("%s.eta_interval: %v is negative", prefix, c.ETAInterval)
	}
	if c.MaxOrders < 1 || c.MaxMerchants < 1 {
		return fmt.Errorf("%s.max_orders/max_merchants: must be at least 1", prefix)
	}
	return nil
}

// Limiter holds the buckets and the eta memory. Safe for concurrent use.
type Limiter struct {
	cfg Config
	now func() time.Time

	mu      sync.Mutex
	tiers   map[string]string // merchant -> tier, from config and SetTier
	buckets map[string]*bucket
	etas    etaMemory
}

type bucket struct {
	tier string
	lim  *rate.Limiter
}

// New returns a Limiter; now is the clock (nil means time.Now).
func New(cfg Config, now func() time.Time) (*Limiter, error) {
	if err := cfg.Validate("limits"); err != nil {
		return nil, err
	}
	if now == nil {
		now = time.Now
	}
	tiers := make(map[string]string, len(cfg.Merchants))
	for m, t := range cfg.Merchants {
		tiers[m] = t
	}
	return &Limiter{cfg: cfg, now: now, tiers: tiers, buckets: map[string]*bucket{},
		etas: etaMemory{interval: cfg.ETAInterval, max: cfg.MaxOrders, last: map[string]etaMark{}}}, nil
}

// Allow reports whether a notification of kind for store's order may go to
// merchant's rider now, and if not, why. An allowed notification consumes
// one token of the merchant's bucket (critical kinds consume nothing).
// Allow does not know decisions: a redelivered eta within ETAInterval is
// refused; use AllowDecision where decisions can be redelivered.
func (l *Limiter) Allow(merchant, store, orderID string, kind wire.DecisionKind) (bool, Reason) {
	return l.allow(merchant, store, orderID, "", kind)
}

// AllowDecision is Allow for decision d, except that a redelivery of the
// eta decision that was allowed (same d.ID) is allowed again within
// ETAInterval, so a NAKed delivery can be retried.
func (l *Limiter) AllowDecision(merchant string, d wire.Decision) (bool, Reason) {
	return l.allow(merchant, d.Store, d.OrderID, d.ID, d.Kind)
}

func (l *Limiter) allow(merchant, store, orderID, id string, kind wire.DecisionKind) (bool, Reason) {
	if kind.Critical() {
		return true, ""
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.etas.evict(now)
	key := store + "\x00" + orderID
	if kind == wire.KindETA && l.etas.recent(key, id, now) {
		return false, ReasonETA
	}
	if !l.bucket(merchant, now).lim.AllowN(now, 1) {
		return false, ReasonTier
	}
	if kind == wire.KindETA {
		l.etas.add(key, id, now)
	}
	return true, ""
}

// SetTier moves merchant to tier from now on; its bucket keeps its tokens.
func (l *Limiter) SetTier(merchant, tier string) error {
	if _, ok := l.cfg.Tiers[tier]; !ok {
		return fmt.Errorf("tier %q is not configured", tier)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tiers[merchant] = tier
	return nil
}

// Tracked returns how many merchant buckets and order eta entries are held.
func (l *Limiter) Tracked() (merchants, orders int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets), len(l.etas.last)
}

// bucket returns merchant's bucket, made or re-tiered as needed. mu held.
func (l *Limiter) bucket(merchant string, now time.Time) *bucket {
	tier, ok := l.tiers[merchant]
	if !ok {
		tier = l.cfg.DefaultTier
	}
	t := l.cfg.Tiers[tier]
	b, ok := l.buckets[merchant]
	if !ok {
		if len(l.buckets) >= l.cfg.MaxMerchants {
			l.sweep(now)
		}
		b = &bucket{tier: tier, lim: rate.NewLimiter(limitOf(t), t.Burst)}
		l.buckets[merchant] = b
	} else if b.tier != tier {
		b.tier = tier
		b.lim.SetLimitAt(now, limitOf(t))
		b.lim.SetBurstAt(now, t.Burst)
	}
	return b
}

// sweep forgets buckets that have refilled: a new bucket starts full, so
// nothing is lost. mu held.
func (l *Limiter) sweep(now time.Time) {
	for m, b := range l.buckets {
		if b.lim.TokensAt(now) >= float64(b.lim.Burst()) {
			delete(l.buckets, m)
		}
	}
}

func limitOf(t Tier) rate.Limit {
	if t.PerMinute <= 0 {
		return rate.Inf
	}
	return rate.Limit(t.PerMinute / 60)
}
