// Package phrase writes rider notification texts with a language model
// behind an OpenAI-compatible chat-completions endpoint (GLM and most hosted
// and local model servers), and uses a text only after Verify has checked it
// against the facts. Anything else (off, slow, 500, malformed JSON, an
// invented number, the wrong language, a spent budget, an open breaker)
// returns the template text the caller passed as fallback, counts why, and
// never takes longer than Config.Budget (800 ms by default).
//
// Off is the default: New with Enabled false returns Off, which holds no
// HTTP client and never opens a connection.
//
// The relay's `phrase` config section is a Config; the relay calls Phrase
// for each notification whose merchant has model text switched on, after
// rendering the template, and sends the text Phrase returns whatever its
// bool says: it is the verified model text or the template. The daily call
// budget is counted per merchant (WithMerchant; without it, per store
// name) per UTC day, per relay process.
package phrase

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/breaker"
	"github.com/passline/passline/wire"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/singleflight"
)

// Config is the phrase section of the relay config.
type Config struct {
	// Enabled switches model text on; off, no connection is ever opened.
	Enabled bool `yaml:"enabled"`
	// BaseURL is the API root; "/chat/completions" is appended
	// (e.g. https://open.bigmodel.cn/api/paas/v4).
	BaseURL string `yaml:"base_url"`
	// Model is the model name sent with every call (e.g. glm-4-flash).
	Model string `yaml:"model"`
	// APIKey is sent as a Bearer token; write "${VAR}" in the file.
	APIKey string `yaml:"api_key"`
	// Budget is the most time one message may spend on the model.
	Budget time.Duration `yaml:"budget"`
	// DailyCalls is each merchant's model calls per UTC day; 0 allows none.
	DailyCalls int `yaml:"daily_calls"`
	// CacheSize is how many verified texts are kept.
	CacheSize int `yaml:"cache_size"`
	// CacheTTL is how long a verified text is reused.
	CacheTTL time.Duration `yaml:"cache_ttl"`
	// MaxChars bounds a text in characters.
	MaxChars int `yaml:"max_chars"`
	// MaxSMSSegments bounds a text in SMS segments (0: no SMS limit).
	MaxSMSSegments int `yaml:"max_sms_segments"`
	// DenyList adds words to DefaultDenyList.
	DenyList []string `yaml:"deny_list"`
	// Temperature and MaxTokens are passed to the model.
	Temperature float64 `yaml:"temperature"`
	MaxTokens   int     `yaml:"max_tokens"`
	// Breaker sets when the endpoint's breaker opens.
	Breaker breaker.Config `yaml:"breaker"`
}

// DefaultConfig is off, with an 800 ms budget, 2000 calls per merchant per
// day, 10,000 cached texts for 24 h, 120 characters and one SMS segment.
func DefaultConfig() Config {
	return Config{Budget: 800 * time.Millisecond, DailyCalls: 2000, CacheSize: 10_000, CacheTTL: 24 * time.Hour,
		MaxChars: 120, MaxSMSSegments: 1, Temperature: 0.3, MaxTokens: 120,
		Breaker: breaker.Config{Failures: 5, CoolDown: 30 * time.Second}}
}

// Validate checks the fields; prefix names the section (e.g. "phrase").
// When disabled only the numbers are checked.
func (c Config) Validate(prefix string) error {
	if c.Enabled {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s.base_url: %q is not an http(s) URL", prefix, c.BaseURL)
		}
		if c.Model == "" {
			return fmt.Errorf("%s.model: empty", prefix)
		}
	}
	switch {
	case c.Budget <= 0 || c.Budget > 10*time.Second:
		return fmt.Errorf("%s.budget: %v is not in (0, 10s]", prefix, c.Budget)
	case c.DailyCalls < 0:
		return fmt.Errorf("%s.daily_calls: %d is negative", prefix, c.DailyCalls)
	case c.CacheSize < 1 || c.CacheTTL <= 0:
		return fmt.Errorf("%s.cache_size/cache_ttl: must be positive", prefix)
	case c.MaxChars < 10:
		return fmt.Errorf("%s.max_chars: %d is below 10", prefix, c.MaxChars)
	case c.MaxSMSSegments < 0:
		return fmt.Errorf("%s.max_sms_segments: %d is negative", prefix, c.MaxSMSSegments)
	}
	return c.Breaker.Validate(prefix + ".breaker")
}

// Options are the seams of a Phraser; zero values are the real things.
type Options struct {
	Client *http.Client     // nil: a client of its own
	Now    func() time.Time // clock of the breaker, budget and cache; nil: time.Now
}

// Off is the Phraser of a disabled generator: it returns the fallback and
// false, and touches no network.
type Off struct{}

var _ cloud.Phraser = Off{}

// Phrase returns fallback, false.
func (Off) Phrase(_ context.Context, _ cloud.Facts, fallback string) (string, bool) {
	return fallback, false
}

// New returns Off when cfg.Enabled is false, else a model Phraser (see
// NewModel) whose metrics are registered on reg (nil: not registered).
func New(cfg Config, reg prometheus.Registerer, opt Options) (cloud.Phraser, error) {
	if !cfg.Enabled {
		return Off{}, nil
	}
	return NewModel(cfg, reg, opt)
}

// Phraser calls the model and verifies its text. Safe for concurrent use.
type Phraser struct {
	cfg      Config
	endpoint string
	limits   Limits
	client   *http.Client
	now      func() time.Time
	br       *breaker.Breaker
	budget   *budget
	cache    *cache
	flight   singleflight.Group
	m        *metrics
}

var _ cloud.Phraser = (*Phraser)(nil)

// NewModel builds a model Phraser whatever cfg.Enabled says. It opens no
// connection until the first Phrase.
func NewModel(cfg Config, reg prometheus.Registerer, opt Options) (*Phraser, error) {
	cfg.Enabled = true
	if err := cfg.Validate("phrase"); err != nil {
		return nil, err
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Client == nil {
		opt.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	endpoint := strings.TrimSuffix(cfg.BaseURL, "/") + "/chat/completions"
	p := &Phraser{
		cfg: cfg, endpoint: endpoint, client: opt.Client, now: opt.Now,
		limits: Limits{MaxChars: cfg.MaxChars, MaxSMSSegments: cfg.MaxSMSSegments, DenyList: append(append([]string(nil), DefaultDenyList...), cfg.DenyList...)},
		br:     breaker.New(breaker.URLName(endpoint), cfg.Breaker, opt.Now),
		budget: &budget{limit: cfg.DailyCalls},
		cache:  newCache(cfg.CacheSize, cfg.CacheTTL),
	}
	m, err := newMetrics(reg, p.br)
	if err != nil {
		return nil, err
	}
	p.m = m
	return p, nil
}

// Breaker is the endpoint's breaker.
func (p *Phraser) Breaker() *breaker.Breaker { return p.br }

// Phrase returns a verified model text for f and true, or fallback and
// false. It returns within Config.Budget (or ctx's deadline, if sooner).
// Concurrent calls in the same situation (the cache key) share one model
// call; each checks the shared text against its own facts.
func (p *Phraser) Phrase(ctx context.Context, f cloud.Facts, fallback string) (string, bool) {
	if language(f.Locale) == "" {
		return p.fallback(fallback, fallbackLocale)
	}
	if f.Kind == wire.KindReady || f.Kind == wire.KindCancelled {
		f.Minutes = nil // a countdown is no fact of these kinds: asked for nowhere, refused if written
	}
	key := cacheKey(f)
	if masked, ok := p.cache.get(key, p.now()); ok {
		if text := unmask(masked, f); Verify(f, text, p.limits) == nil {
			p.m.cacheHits.Inc()
			return text, true
		}
	}
	ch := p.flight.DoChan(key, func() (any, error) { return p.generate(ctx, key, f, fallback) })
	select {
	case r := <-ch:
		if r.Err != nil {
			var fe *fallbackError
			errors.As(r.Err, &fe)
			return p.fallback(fallback, fe.reason)
		}
		text := unmask(r.Val.(string), f)
		if r.Shared && Verify(f, text, p.limits) != nil {
			return p.fallback(fallback, fallbackVerify)
		}
		return text, true
	case <-ctx.Done():
		return p.fallback(fallback, fallbackCall)
	}
}

func (p *Phraser) fallback(text, reason string) (string, bool) {
	p.m.fallbacks.WithLabelValues(reason).Inc()
	return text, false
}

type merchantKey struct{}

// WithMerchant tells Phrase whose daily call budget a call uses.
func WithMerchant(ctx context.Context, merchant string) context.Context {
	return context.WithValue(ctx, merchantKey{}, merchant)
}

func merchantOf(ctx context.Context, f cloud.Facts) string {
	if m, ok := ctx.Value(merchantKey{}).(string); ok && m != "" {
		return m
	}
	return f.StoreName
}
