// Package breaker provides a circuit breaker per endpoint and the one retry
// loop that every outbound cloud channel (webhook, SMS) and the phraser share.
//
// A Breaker starts closed. It opens after Config.Failures consecutive
// failures, or when at least Config.MinRequests calls in the current
// Config.Window failed in a ratio of Config.FailureRatio or more. While open,
// Allow fails fast with ErrOpen and nothing reaches the endpoint. After
// Config.CoolDown (measured on the injectable clock) it lets
// Config.HalfOpenProbes trial calls through: one success closes it, one
// failure opens it again for another cool-down.
//
// Each endpoint has one Breaker (New). Allow goes before each attempt and
// its done func after it; Do does both and also retries with exponential
// backoff and jitter within the ctx deadline. A Collector, registered once
// per prometheus.Registerer, exports the state of every Breaker added to it
// as a gauge (0 closed, 1 open, 2 half-open).
package breaker

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"
)

// State is a breaker's state. Its numeric value is what the state gauge
// exports: 0 closed, 1 open, 2 half-open.
type State int

// Breaker states.
const (
	Closed   State = 0 // calls flow; failures are counted
	Open     State = 1 // calls fail fast with ErrOpen until the cool-down ends
	HalfOpen State = 2 // a few trial calls decide between closed and open
)

// String is "closed", "open" or "half-open", for logs.
func (s State) String() string {
	switch s {
	case Closed:
		return "closed"
	case Open:
		return "open"
	case HalfOpen:
		return "half-open"
	}
	return fmt.Sprintf("state(%d)", int(s))
}

// ErrOpen is returned by Allow (and Do) while the breaker is open, or
// half-open with every trial slot taken. Nothing was sent.
var ErrOpen = errors.New("circuit breaker open")

// Outcome is what the caller reports for one allowed call.
type Outcome int

// Outcomes of a call.
const (
	Success Outcome = iota // the endpoint answered properly (a 4xx counts: it is alive)
	Failure                // 5xx, timeout, connection refused: the endpoint is unwell
	Ignored                // the caller gave up (shutdown); says nothing about the endpoint
)

// Config sets when a breaker opens and how long it stays open. Zero fields
// take the defaults of DefaultConfig.
type Config struct {
	// Failures is how many consecutive failures open the breaker.
	Failures int `yaml:"failures"`
	// FailureRatio opens the breaker when, within Window, at least
	// MinRequests calls were made and this fraction of them failed.
	// 0 disables the ratio rule.
	FailureRatio float64 `yaml:"failure_ratio"`
	// MinRequests is the smallest sample the ratio rule judges.
	MinRequests int `yaml:"min_requests"`
	// Window is how long closed-state counts are kept before they reset.
	Window time.Duration `yaml:"window"`
	// CoolDown is how long the breaker stays open before trial calls.
	CoolDown time.Duration `yaml:"cool_down"`
	// HalfOpenProbes is how many trial calls may be in flight at once
	// while half-open.
	HalfOpenProbes int `yaml:"half_open_probes"`
}

// DefaultConfig opens after 5 consecutive failures or 50% of at least 20
// calls in 30 s, and tries again after 10 s.
func DefaultConfig() Config {
	return Config{Failures: 5, FailureRatio: 0.5, MinRequests: 20, Window: 30 * time.Second, CoolDown: 10 * time.Second, HalfOpenProbes: 1}
}

// Validate checks the fields; prefix names the config section in messages
// (e.g. "webhook.breaker").
func (c Config) Validate(prefix string) error {
	switch {
	case c.Failures < 0:
		return fmt.Errorf("%s.failures: %d is negative", prefix, c.Failures)
	case c.FailureRatio < 0 || c.FailureRatio > 1:
		return fmt.Errorf("%s.failure_ratio: %v is not in [0,1]", prefix, c.FailureRatio)
	case c.MinRequests < 0, c.HalfOpenProbes < 0:
		return fmt.Errorf("%s.min_requests/half_open_probes: must not be negative", prefix)
	case c.Window < 0, c.CoolDown < 0:
		return fmt.Errorf("%s.window/cool_down: must not be negative", prefix)
	}
	return nil
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.Failures = cmp.Or(c.Failures, d.Failures)
	c.MinRequests = cmp.Or(c.MinRequests, d.MinRequests)
	c.Window = cmp.Or(c.Window, d.Window)
	c.CoolDown = cmp.Or(c.CoolDown, d.CoolDown)
	c.HalfOpenProbes = cmp.Or(c.HalfOpenProbes, d.HalfOpenProbes)
	return c
}

// Breaker is one endpoint's circuit breaker. It is safe for concurrent use.
type Breaker struct {
	name string
	cfg  Config
	now  func() time.Time

	mu          sync.Mutex
	state       State
	generation  uint64 // bumps on every state change; stale outcomes are dropped
	consecutive int
	requests    int
	failures    int
	windowStart time.Time
	openedAt    time.Time
	probes      int // trial calls in flight while half-open
}

// New returns a closed breaker named name (the endpoint, for metrics and
// logs). now is the clock; nil means time.Now.
func New(name string, cfg Config, now func() time.Time) *Breaker {
	if now == nil {
		now = time.Now
	}
	return &Breaker{name: name, cfg: cfg.withDefaults(), now: now, windowStart: now()}
}

// URLName is rawURL reduced to scheme://host, the name to give a breaker
// that guards a URL: a breaker's name is a metric label and is shown on the
// ops page, and a URL's user info, path or query may carry a token.
func URLName(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return "invalid-url"
	}
	return u.Scheme + "://" + u.Host
}

// Name is the endpoint the breaker guards.
func (b *Breaker) Name() string { return b.name }

// State reports the breaker's state now; an open breaker whose cool-down has
// passed reports HalfOpen.
func (b *Breaker) State() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance(b.now())
	return b.state
}

// Allow asks to make one call. It returns ErrOpen when the call must not be
// made. Otherwise the caller makes the call and must call done exactly once
// with its outcome; a done never called keeps a half-open trial slot taken.
func (b *Breaker) Allow() (done func(Outcome), err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.advance(b.now())
	switch b.state {
	case Open:
		return nil, fmt.Errorf("%s: %w", b.name, ErrOpen)
	case HalfOpen:
		if b.probes >= b.cfg.HalfOpenProbes {
			return nil, fmt.Errorf("%s: %w (trial call in flight)", b.name, ErrOpen)
		}
		b.probes++
	}
	gen, state := b.generation, b.state
	var once sync.Once
	return func(o Outcome) { once.Do(func() { b.record(gen, state, o) }) }, nil
}

// advance moves open to half-open after the cool-down and resets a closed
// breaker's window. Callers hold mu.
func (b *Breaker) advance(now time.Time) {
	switch b.state {
	case Open:
		if now.Sub(b.openedAt) >= b.cfg.CoolDown {
			b.setState(HalfOpen, now)
		}
	case Closed:
		if now.Sub(b.windowStart) >= b.cfg.Window {
			b.requests, b.failures, b.windowStart = 0, 0, now
		}
	}
}

func (b *Breaker) record(gen uint64, state State, o Outcome) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if state == HalfOpen && gen == b.generation {
		b.probes--
	}
	if gen != b.generation || o == Ignored {
		return
	}
	now := b.now()
	switch b.state {
	case HalfOpen:
		if o == Success {
			b.setState(Closed, now)
		} else {
			b.setState(Open, now)
		}
	case Closed:
		b.requests++
		if o == Success {
			b.consecutive = 0
			return
		}
		b.failures++
		b.consecutive++
		if b.consecutive >= b.cfg.Failures || b.ratioTripped() {
			b.setState(Open, now)
		}
	}
}

func (b *Breaker) ratioTripped() bool {
	return b.cfg.FailureRatio > 0 && b.requests >= b.cfg.MinRequests &&
		float64(b.failures) >= b.cfg.FailureRatio*float64(b.requests)
}

func (b *Breaker) setState(s State, now time.Time) {
	b.state = s
	b.generation++
	b.consecutive, b.requests, b.failures, b.probes = 0, 0, 0, 0
	b.windowStart = now
	if s == Open {
		b.openedAt = now
	}
}
