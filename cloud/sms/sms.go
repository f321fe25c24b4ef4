// Package sms delivers rider notifications as text messages through an
// HTTP SMS gateway, and measures texts as SMS (Measure, Fits: GSM-7 160/153,
// UCS-2 70/67) so that generated text can be held to the channel's limit.
//
// The gateway adapter POSTs JSON {"to", "text", "from", "reference"} to
// Config.URL with the API key in Config.APIKeyHeader and the decision id as
// Idempotency-Key, through one circuit breaker and the shared retry loop
// (breaker.Do): 4xx other than 408/429 is permanent, 5xx and timeouts are
// retried within ctx's deadline, an open breaker fails fast.
//
// The relay's `sms` config section is a Config; an empty url means SMS is
// off. The PhoneLookup given to New returns a rider's E.164 number, ""
// when the rider has none (the SMS is skipped), or an error (retryable
// unless it wraps cloud.ErrPermanent).
package sms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"time"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/breaker"
	"github.com/passline/passline/wire"
)

// Config is the sms section of the relay config.
type Config struct {
	// URL is the gateway's send endpoint; empty turns SMS off.
	URL string `yaml:"url"`
	// APIKeyHeader is the header that carries APIKey.
	APIKeyHeader string `yaml:"api_key_header"`
	// APIKey authenticates to the gateway; write "${VAR}" in the file.
	APIKey string `yaml:"api_key"`
	// From is the sender id, when the gateway wants one.
	From string `yaml:"from"`
	// MaxSegments refuses (permanently) texts longer than this many parts.
	MaxSegments int `yaml:"max_segments"`
	// Kinds limits SMS to these decision kinds (texts cost money: e.g.
	// [ready, cancelled, delayed]); empty means every kind.
	Kinds []wire.DecisionKind `yaml:"kinds"`
	// Timeout bounds one HTTP attempt.
	Timeout time.Duration `yaml:"timeout"`
	// Retry is the backoff between attempts.
	Retry breaker.Retry `yaml:"retry"`
	// Breaker sets when the gateway's breaker opens.
	Breaker breaker.Config `yaml:"breaker"`
}

// DefaultConfig is off (no URL), with key header X-API-Key, 3 segments,
// 3 s attempts and the default retry and breaker.
func DefaultConfig() Config {
	return Config{APIKeyHeader: "X-API-Key", MaxSegments: 3, Timeout: 3 * time.Second, Retry: breaker.DefaultRetry(), Breaker: breaker.DefaultConfig()}
}

// Validate checks the fields; prefix names the section (e.g. "sms").
func (c Config) Validate(prefix string) error {
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("%s.url: %q is not an http(s) URL", prefix, c.URL)
		}
		if c.APIKeyHeader == "" {
			return fmt.Errorf("%s.api_key_header: empty", prefix)
		}
	}
	for i, k := range c.Kinds {
		if !k.Valid() {
			return fmt.Errorf("%s.kinds[%d]: unknown kind %q", prefix, i, k)
		}
	}
	if c.MaxSegments < 1 || c.MaxSegments > 10 {
		return fmt.Errorf("%s.max_segments: %d is not in 1-10", prefix, c.MaxSegments)
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("%s.timeout: %v is not positive", prefix, c.Timeout)
	}
	if err := c.Retry.Validate(prefix + ".retry"); err != nil {
		return err
	}
	return c.Breaker.Validate(prefix + ".breaker")
}

// PhoneLookup returns a rider's phone number in E.164 form (+8613800138000),
// "" when the rider has none.
type PhoneLookup func(ctx context.Context, rider string) (string, error)

// Options are the seams of a Channel; zero values are the real things.
type Options struct {
	Client *http.Client     // nil: a client that never follows redirects
	Now    func() time.Time // breaker clock; nil: time.Now
}

// Message is the JSON body the gateway receives.
type Message struct {
	To        string `json:"to"`
	Text      string `json:"text"`
	From      string `json:"from,omitempty"`
	Reference string `json:"reference"` // the decision id
}

// Channel sends notifications through the gateway. Safe for concurrent use.
type Channel struct {
	cfg    Config
	lookup PhoneLookup
	client *http.Client
	now    func() time.Time
	br     *breaker.Breaker
}

var _ cloud.Channel = (*Channel)(nil)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// New builds the channel. It opens no connection.
func New(cfg Config, lookup PhoneLookup, opt Options) (*Channel, error) {
	if cfg.URL == "" {
		return nil, fmt.Errorf("sms.url: empty, SMS is off")
	}
	if err := cfg.Validate("sms"); err != nil {
		return nil, err
	}
	if lookup == nil {
		return nil, fmt.Errorf("sms: no phone lookup")
	}
	if opt.Client == nil {
		opt.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Channel{cfg: cfg, lookup: lookup, client: opt.Client, now: opt.Now, br: breaker.New(breaker.URLName(cfg.URL), cfg.Breaker, opt.Now)}, nil
}

// Name is "sms".
func (c *Channel) Name() string { return "sms" }

// Breaker is the gateway's breaker, for the state gauge.
func (c *Channel) Breaker() *breaker.Breaker { return c.br }

// Deliver sends n.Text to the rider's phone. A kind not in Config.Kinds and
// a rider without a phone are skipped (nil). A malformed number, a text over MaxSegments and a 4xx are
// permanent; an open breaker fails fast with breaker.ErrOpen.
func (c *Channel) Deliver(ctx context.Context, n wire.Notification) error {
	if len(c.cfg.Kinds) > 0 && !slices.Contains(c.cfg.Kinds, n.Kind) {
		return nil
	}
	phone, err := c.lookup(ctx, n.Rider)
	switch {
	case err != nil:
		return fmt.Errorf("sms: phone of rider %s: %w", n.Rider, err)
	case phone == "":
		return nil
	case !e164.MatchString(phone):
		return fmt.Errorf("sms: rider %s phone is not E.164: %w", n.Rider, cloud.ErrPermanent)
	}
	if cnt := Measure(n.Text); cnt.Segments == 0 || cnt.Segments > c.cfg.MaxSegments {
		return fmt.Errorf("sms: text of %s needs %d %s segments, limit %d: %w", n.ID, cnt.Segments, cnt.Encoding, c.cfg.MaxSegments, cloud.ErrPermanent)
	}
	body, err := json.Marshal(Message{To: phone, Text: n.Text, From: c.cfg.From, Reference: n.ID})
	if err != nil {
		return fmt.Errorf("sms: encode %s: %w: %w", n.ID, err, cloud.ErrPermanent)
	}
	err = breaker.Do(ctx, c.br, c.cfg.Retry, func(ctx context.Context) error { return c.post(ctx, n.ID, body) })
	if err != nil {
		return fmt.Errorf("sms: deliver %s: %w", n.ID, err)
	}
	return nil
}

func (c *Channel) post(ctx context.Context, id string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w: %w", err, cloud.ErrPermanent)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", id)
	if c.cfg.APIKey != "" {
		req.Header.Set(c.cfg.APIKeyHeader, c.cfg.APIKey)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	return breaker.ResponseError(resp, c.now())
}
