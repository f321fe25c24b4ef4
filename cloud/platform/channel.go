package platform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/breaker"
	"github.com/passline/passline/wire"
)

// HeaderIdempotencyKey carries the decision id on every call, so a
// platform that honours it (and every fake in the tests) applies a retried
// call once.
const HeaderIdempotencyKey = "Idempotency-Key"

// Channel tells one platform about the decisions on its orders. It is a
// cloud.Channel named "platform:<name>"; a notification for an order that
// is not this platform's is skipped (nil). Each endpoint (base URL and API
// operation) has its own breaker. Deliver retries 408, 429 (honouring
// Retry-After) and 5xx with backoff within ctx's deadline and leaves
// further retries to the relay; any other 4xx is permanent: its reason
// (secrets removed) is logged and the decision parked in the dead-letter
// stream with it. It is safe for concurrent use.
type Channel struct {
	Adapter     Adapter
	Orders      Orders
	Credentials CredentialStore
	Dead        DeadLetters
	// Client sends requests; nil means one that follows no redirects.
	// Give it the SSRF-guarded dialer in production.
	Client *http.Client
	// Timeout bounds one attempt; 5 s when 0.
	Timeout time.Duration
	Retry   breaker.Retry
	Breaker breaker.Config
	// OnBreaker is called once for each breaker the channel creates, to
	// export its state.
	OnBreaker func(*breaker.Breaker)
	Now       func() time.Time
	Log       *slog.Logger

	mu       sync.Mutex
	breakers map[string]*breaker.Breaker
}

// Name is "platform:<platform>".
func (c *Channel) Name() string { return "platform:" + c.Adapter.Platform() }

// NeedsRider is false: the platform knows the order from the store, and
// its rider is the platform's business, so the relay delivers without
// waiting for a rider assignment (relay.RiderlessChannel).
func (c *Channel) NeedsRider() bool { return false }

func (c *Channel) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Channel) log() *slog.Logger {
	if c.Log != nil {
		return c.Log
	}
	return slog.Default()
}

func (c *Channel) client() *http.Client {
	if c.Client != nil {
		return c.Client
	}
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// breaker returns the breaker of endpoint, creating it on first use.
func (c *Channel) breaker(endpoint string) *breaker.Breaker {
	c.mu.Lock()
	defer c.mu.Unlock()
	if b, ok := c.breakers[endpoint]; ok {
		return b
	}
	if c.breakers == nil {
		c.breakers = map[string]*breaker.Breaker{}
	}
	b := breaker.New(endpoint, c.Breaker, c.Now)
	c.breakers[endpoint] = b
	if c.OnBreaker != nil {
		c.OnBreaker(b)
	}
	return b
}

// Deliver tells the platform about n when n's order is one of its orders
// and the adapter has a call for it. An order no platform has linked yet
// answers cloud.ErrNotYet while n has no rider, nil once it has one.
func (c *Channel) Deliver(ctx context.Context, n wire.Notification) error {
	p := c.Adapter.Platform()
	o, ok, err := c.Orders.Get(ctx, n.Store, n.OrderID)
	if err != nil {
		return fmt.Errorf("%s: read order %s/%s: %w", c.Name(), n.Store, n.OrderID, err)
	}
	if !ok || o.PlatformID == "" {
		return notLinked(n)
	}
	if o.Platform != p {
		return nil
	}
	cred, ok, err := c.Credentials.Get(ctx, n.Store, p)
	if err != nil {
		return fmt.Errorf("%s: read credentials of %s: %w", c.Name(), n.Store, err)
	}
	if !ok {
		return c.park(ctx, n, fmt.Sprintf("store %s has no %s credentials", n.Store, p))
	}
	u := Update{DecisionID: n.ID, Store: n.Store, OrderID: n.OrderID, Kind: n.Kind, EventID: n.EventID, ETA: n.ETA, DecidedAt: n.DecidedAt, Flags: n.Flags, Order: o}
	call, ok := c.Adapter.Plan(u, cred, c.now())
	if !ok {
		return nil
	}
	base := cred.BaseURL
	if base == "" {
		base = c.Adapter.BaseURL()
	}
	bu, err := url.Parse(base)
	if err != nil {
		return c.park(ctx, n, fmt.Sprintf("bad base url: %v", err))
	}
	br := c.breaker(p + " " + bu.Host + " " + call.Endpoint)
	err = breaker.Do(ctx, br, c.Retry, func(ctx context.Context) error { return c.attempt(ctx, base, call, cred, n.ID, n.Traceparent) })
	if err != nil && errors.Is(err, cloud.ErrPermanent) {
		return c.park(ctx, n, strings.ReplaceAll(err.Error(), ": "+cloud.ErrPermanent.Error(), ""))
	}
	if err != nil {
		return fmt.Errorf("%s: %s %s: %w", c.Name(), call.Endpoint, n.ID, err)
	}
	return nil
}

// notLinked is the answer for an order no platform has linked to its
// ticket yet: before its rider is known (n.Rider empty) the platform may
// still link it with the rider's assignment (DoorDash's dasher_confirmed,
// Open Delivery's tracking events), so the relay should deliver again then
// (cloud.ErrNotYet); with a rider it is not a platform order.
func notLinked(n wire.Notification) error {
	if n.Rider == "" {
		return cloud.ErrNotYet
	}
	return nil
}

// park dead-letters n with reason and returns a permanent error, so the
// relay marks the channel done and never retries it.
func (c *Channel) park(ctx context.Context, n wire.Notification, reason string) error {
	c.log().Warn("platform refused decision; parked in the dead-letter stream",
		"channel", c.Name(), "decision_id", n.ID, "store", n.Store, "order_id", n.OrderID, "reason", reason)
	if c.Dead != nil {
		if err := c.Dead.Park(ctx, n, c.Name(), reason); err != nil {
			// Not parked: let the relay retry the whole delivery.
			return fmt.Errorf("%s: park %s: %w", c.Name(), n.ID, err)
		}
	}
	return fmt.Errorf("%s: %s: %w", c.Name(), reason, cloud.ErrPermanent)
}

// attempt makes one authenticated call, bounded by the attempt timeout;
// traceparent, when set, goes in the W3C traceparent header.
func (c *Channel) attempt(ctx context.Context, base string, call Call, cred Credentials, id, traceparent string) error {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	u := strings.TrimRight(base, "/") + call.Path
	if call.Query != "" {
		u += "?" + call.Query
	}
	req, err := http.NewRequestWithContext(ctx, call.Method, u, bytes.NewReader(call.Body))
	if err != nil {
		return fmt.Errorf("build request: %w: %w", err, cloud.ErrPermanent)
	}
	ct := call.ContentType
	if ct == "" {
		ct = "application/json"
	}
	if call.Body != nil {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set(HeaderIdempotencyKey, id)
	if traceparent != "" {
		req.Header.Set(wire.HeaderTraceparent, traceparent)
	}
	client := c.client()
	if err := c.Adapter.Authorize(ctx, client, req, call, cred, c.now()); err != nil {
		return fmt.Errorf("authorize: %s", redact(err.Error(), cred))
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	err = breaker.ResponseError(resp, c.now())
	if err == nil {
		if rc, ok := c.Adapter.(ResponseChecker); ok {
			if err := rc.CheckResponse(body); err != nil {
				return fmt.Errorf("%s: %w", redact(err.Error(), cred), cloud.ErrPermanent)
			}
		}
		return nil
	}
	if reason := Reason(body); reason != "" {
		return fmt.Errorf("%w: %s", err, redact(reason, cred))
	}
	return err
}

// Reason extracts a platform's error reason from a response body: the
// usual JSON fields (code, message, error, msg, reason, description),
// else the body's first 200 bytes.
func Reason(body []byte) string {
	var m map[string]any
	if json.Unmarshal(body, &m) == nil {
		var parts []string
		for _, k := range []string{"code", "error", "errcode", "message", "msg", "error_description", "reason", "description", "title", "detail"} {
			switch v := m[k].(type) {
			case string:
				if v != "" {
					parts = append(parts, k+"="+v)
				}
			case float64:
				parts = append(parts, fmt.Sprintf("%s=%v", k, v))
			}
		}
		if len(parts) > 0 {
			return strings.Join(parts, " ")
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

// redact removes the credential's secrets from s.
func redact(s string, c Credentials) string {
	for _, sec := range c.secrets() {
		s = strings.ReplaceAll(s, sec, "[redacted]")
	}
	return s
}
