// Package webhook delivers rider notifications to merchants' HTTP endpoints
// as CloudEvents 1.0 structured-mode JSON, signed with Standard Webhooks
// headers (webhook-id = decision id, webhook-timestamp, webhook-signature
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>"). Receivers check a request
// with Verify.
//
// Each endpoint is its own cloud.Channel with its own circuit breaker, so a
// 500-ing or hanging endpoint trips and then fails fast (ErrOpen, nothing
// sent) without touching any other endpoint or channel. Deliver retries with
// exponential backoff and jitter (breaker.Do) while ctx's deadline allows;
// 4xx other than 408/429 is permanent (cloud.ErrPermanent).
//
// The relay's `webhook` config section is a Config; NewAll makes one
// Channel per endpoint. Deliver needs a ctx with a deadline (the
// per-message delivery budget); the relay decides what a returned error
// means (NAK and redeliver for retryable ones, count and ack for permanent
// ones).
package webhook

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/breaker"
	"github.com/passline/passline/cloud/egress"
	"github.com/passline/passline/wire"
)

// Config is the webhook section of the relay config.
type Config struct {
	// Endpoints each become one Channel.
	Endpoints []Endpoint `yaml:"endpoints"`
	// Source is the CloudEvents source of every event.
	Source string `yaml:"source"`
	// Timeout bounds one HTTP attempt; ctx's deadline bounds them all.
	Timeout time.Duration `yaml:"timeout"`
	// Retry is the backoff between attempts.
	Retry breaker.Retry `yaml:"retry"`
	// Breaker sets when an endpoint's breaker opens.
	Breaker breaker.Config `yaml:"breaker"`
}

// Endpoint is one receiver.
type Endpoint struct {
	// Name labels the channel ("webhook:<name>") and its metrics.
	Name string `yaml:"name"`
	// URL receives POSTs; http or https.
	URL string `yaml:"url"`
	// Secret is the Standard Webhooks secret, "whsec_<base64 key>"; put it
	// in the environment and write "${VAR}" in the file.
	Secret string `yaml:"secret"`
	// PreviousSecret is the secret Secret replaces. Until PreviousUntil
	// every delivery carries two signatures, one per secret, so the
	// receiver may switch to Secret at any moment of the overlap; from
	// PreviousUntil on only Secret signs. Both or neither.
	PreviousSecret string    `yaml:"previous_secret"`
	PreviousUntil  time.Time `yaml:"previous_until"` // RFC 3339, e.g. 2026-12-03T00:00:00Z
	// Stores limits the endpoint to these stores' notifications; empty
	// means every store.
	Stores []string `yaml:"stores"`
}

// DefaultConfig has no endpoints, 2 s attempts, the default retry and
// breaker.
func DefaultConfig() Config {
	return Config{Source: "/passline/cloud", Timeout: 2 * time.Second, Retry: breaker.DefaultRetry(), Breaker: breaker.DefaultConfig()}
}

// Validate checks every field; prefix names the section (e.g. "webhook").
func (c Config) Validate(prefix string) error {
	if c.Source == "" {
		return fmt.Errorf("%s.source: empty", prefix)
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("%s.timeout: %v is not positive", prefix, c.Timeout)
	}
	if err := c.Retry.Validate(prefix + ".retry"); err != nil {
		return err
	}
	if err := c.Breaker.Validate(prefix + ".breaker"); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, ep := range c.Endpoints {
		field := fmt.Sprintf("%s.endpoints[%d]", prefix, i)
		if err := ep.validate(field); err != nil {
			return err
		}
		if seen[ep.Name] {
			return fmt.Errorf("%s.name: %q used twice", field, ep.Name)
		}
		seen[ep.Name] = true
	}
	return nil
}

func (ep Endpoint) validate(field string) error {
	if !wire.ValidToken(ep.Name) {
		return fmt.Errorf("%s.name: %q is not a token (A-Z a-z 0-9 _ -)", field, ep.Name)
	}
	u, err := url.Parse(ep.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%s.url: %q is not an http(s) URL", field, ep.URL)
	}
	if _, err := DecodeSecret(ep.Secret); err != nil {
		return fmt.Errorf("%s.secret: %w", field, err)
	}
	return ep.validateRotation(field)
}

// Options are the seams of a Channel; zero values are the real things.
type Options struct {
	// Client sends requests; nil means Guard's client, which never
	// follows redirects and connects only where Guard allows.
	Client *http.Client
	// Guard refuses destinations that are not public addresses at dial
	// time (SSRF: a webhook URL is chosen by a merchant, not the
	// operator); nil means a guard with no allow-list. Build it from the
	// cloud config's egress section.
	Guard *egress.Guard
	// Now is the clock for signatures and the breaker; nil means time.Now.
	Now func() time.Time
}

// Channel delivers to one endpoint. It is safe for concurrent use.
type Channel struct {
	cfg    Config
	ep     Endpoint
	key    []byte
	prev   []byte    // previous key during a rotation, else nil
	until  time.Time // prev signs before this instant
	client *http.Client
	now    func() time.Time
	br     *breaker.Breaker
}

var _ cloud.Channel = (*Channel)(nil)

// NewAll builds one Channel per configured endpoint.
func NewAll(cfg Config, opt Options) ([]*Channel, error) {
	chans := make([]*Channel, 0, len(cfg.Endpoints))
	for _, ep := range cfg.Endpoints {
		c, err := New(cfg, ep, opt)
		if err != nil {
			return nil, err
		}
		chans = append(chans, c)
	}
	return chans, nil
}

// New builds the Channel of endpoint ep. It opens no connection.
func New(cfg Config, ep Endpoint, opt Options) (*Channel, error) {
	if err := ep.validate("webhook endpoint " + ep.Name); err != nil {
		return nil, err
	}
	key, _ := DecodeSecret(ep.Secret)
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultConfig().Timeout
	}
	if cfg.Source == "" {
		cfg.Source = DefaultConfig().Source
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Client == nil {
		if opt.Guard == nil {
			opt.Guard = &egress.Guard{}
		}
		opt.Client = opt.Guard.Client()
	}
	var prev []byte
	if ep.PreviousSecret != "" {
		prev, _ = DecodeSecret(ep.PreviousSecret)
	}
	return &Channel{cfg: cfg, ep: ep, key: key, prev: prev, until: ep.PreviousUntil, client: opt.Client, now: opt.Now, br: breaker.New(ep.Name, cfg.Breaker, opt.Now)}, nil
}

// Name is "webhook:<endpoint name>".
func (c *Channel) Name() string { return "webhook:" + c.ep.Name }

// Breaker is the endpoint's breaker, for the state gauge.
func (c *Channel) Breaker() *breaker.Breaker { return c.br }

// Deliver posts n to the endpoint, retrying within ctx's deadline. A
// notification for a store outside Endpoint.Stores is skipped and returns
// nil. Errors wrap cloud.ErrPermanent (4xx, invalid notification) or
// breaker.ErrOpen (nothing sent) or are otherwise retryable.
func (c *Channel) Deliver(ctx context.Context, n wire.Notification) error {
	if len(c.ep.Stores) > 0 && !slices.Contains(c.ep.Stores, n.Store) {
		return nil
	}
	ev, err := NewEvent(c.cfg.Source, n)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Name(), err)
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("%s: encode event %s: %w: %w", c.Name(), n.ID, err, cloud.ErrPermanent)
	}
	err = breaker.Do(ctx, c.br, c.cfg.Retry, func(ctx context.Context) error { return c.post(ctx, n.ID, n.Traceparent, body) })
	if err != nil {
		return fmt.Errorf("%s: deliver %s: %w", c.Name(), n.ID, err)
	}
	return nil
}

// post makes one signed attempt, bounded by the attempt timeout;
// traceparent, when set, goes in the W3C traceparent header.
func (c *Channel) post(ctx context.Context, id, traceparent string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.ep.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build request: %w: %w", err, cloud.ErrPermanent)
	}
	req.Header.Set("Content-Type", ContentType)
	if traceparent != "" {
		req.Header.Set(wire.HeaderTraceparent, traceparent)
	}
	now := c.now()
	SignKeys(req.Header, c.keysAt(now), id, now, body)
	resp, err := c.client.Do(req)
	if errors.Is(err, egress.ErrForbidden) {
		return fmt.Errorf("%w: %w", err, cloud.ErrPermanent) // retrying reaches the same address
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10)) // let the connection be reused
	return breaker.ResponseError(resp, c.now())
}
