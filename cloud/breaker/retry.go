package breaker

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/passline/passline/cloud"
)

// Retry is the backoff policy of Do: exponential from Initial by Multiplier,
// capped at Max, each wait shortened by a random fraction up to Jitter so
// that many relays retrying one endpoint do not beat in step. Zero fields
// take the defaults of DefaultRetry.
type Retry struct {
	// Attempts is the most calls Do makes, the first included.
	Attempts int `yaml:"attempts"`
	// Initial is the wait after the first failure.
	Initial time.Duration `yaml:"initial"`
	// Max caps every wait.
	Max time.Duration `yaml:"max"`
	// Multiplier grows the wait after each failure.
	Multiplier float64 `yaml:"multiplier"`
	// Jitter is the largest fraction of a wait removed at random, in [0,1].
	Jitter float64 `yaml:"jitter"`
}

// DefaultRetry makes up to 4 attempts, waiting about 100 ms, 200 ms, 400 ms.
func DefaultRetry() Retry {
	return Retry{Attempts: 4, Initial: 100 * time.Millisecond, Max: 2 * time.Second, Multiplier: 2, Jitter: 0.5}
}

// Validate checks the fields; prefix names the config section in messages.
func (r Retry) Validate(prefix string) error {
	switch {
	case r.Attempts < 0:
		return fmt.Errorf("%s.attempts: %d is negative", prefix, r.Attempts)
	case r.Initial < 0 || r.Max < 0:
		return fmt.Errorf("%s.initial/max: must not be negative", prefix)
	case r.Multiplier != 0 && r.Multiplier < 1:
		return fmt.Errorf("%s.multiplier: %v is below 1", prefix, r.Multiplier)
	case r.Jitter < 0 || r.Jitter > 1:
		return fmt.Errorf("%s.jitter: %v is not in [0,1]", prefix, r.Jitter)
	}
	return nil
}

func (r Retry) withDefaults() Retry {
	d := DefaultRetry()
	r.Attempts = cmp.Or(r.Attempts, d.Attempts)
	r.Initial = cmp.Or(r.Initial, d.Initial)
	r.Max = cmp.Or(r.Max, d.Max)
	r.Multiplier = cmp.Or(r.Multiplier, d.Multiplier)
	return r
}

// Wait is the backoff before attempt number attempt+1 (attempt counts from
// 1), before jitter.
func (r Retry) Wait(attempt int) time.Duration {
	r = r.withDefaults()
	d := float64(r.Initial)
	for i := 1; i < attempt && d < float64(r.Max); i++ {
		d *= r.Multiplier
	}
	return min(time.Duration(d), r.Max)
}

func (r Retry) jittered(attempt int) time.Duration {
	d := r.Wait(attempt)
	return d - time.Duration(r.Jitter*rand.Float64()*float64(d))
}

// Do calls op through breaker b until op succeeds, fails permanently (an
// error wrapping cloud.ErrPermanent, returned as is), b refuses (an error
// wrapping ErrOpen), the attempts are used up, or ctx ends. It never waits
// past ctx's deadline: when the next wait would end after it, Do returns the
// last error at once. Each attempt gets ctx; op should bound its own attempt
// further if it wants several attempts within one deadline.
//
// Outcomes reported to b: nil and permanent errors are successes (the
// endpoint answered), a cancelled ctx is ignored, anything else, a deadline
// included, is a failure, so a hanging endpoint trips its breaker.
func Do(ctx context.Context, b *Breaker, r Retry, op func(context.Context) error) error {
	r = r.withDefaults()
	var last error
	for attempt := 1; ; attempt++ {
		done, err := b.Allow()
		if err != nil {
			return errors.Join(err, last)
		}
		last = op(ctx)
		done(outcome(ctx, last))
		if last == nil || errors.Is(last, cloud.ErrPermanent) {
			return last
		}
		if attempt >= r.Attempts || ctx.Err() != nil {
			return fmt.Errorf("after %d attempts: %w", attempt, last)
		}
		if err := sleep(ctx, waitAfter(last, r.jittered(attempt))); err != nil {
			return fmt.Errorf("after %d attempts: %w", attempt, last)
		}
	}
}

// waitAfter is the backoff wait, or longer when the endpoint asked for it.
func waitAfter(err error, backoff time.Duration) time.Duration {
	var ra *RetryAfterError
	if errors.As(err, &ra) && ra.After > backoff {
		return ra.After
	}
	return backoff
}

func outcome(ctx context.Context, err error) Outcome {
	switch {
	case err == nil, errors.Is(err, cloud.ErrPermanent):
		return Success
	case errors.Is(ctx.Err(), context.Canceled):
		return Ignored
	}
	return Failure
}

// sleep waits d, or returns an error at once when ctx's deadline comes
// before d is over, or when ctx ends during the wait.
func sleep(ctx context.Context, d time.Duration) error {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d {
		return context.DeadlineExceeded
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// StatusError classifies an HTTP answer from an outbound endpoint: nil for
// 2xx; an error wrapping cloud.ErrPermanent for the other 4xx and for 3xx
// (redirects are not followed), which retrying cannot fix; a plain,
// retryable error for 408, 429 and 5xx.
func StatusError(code int, status string) error {
	switch {
	case code >= 200 && code < 300:
		return nil
	case code == 408 || code == 429 || code >= 500:
		return fmt.Errorf("endpoint answered %s", status)
	}
	return fmt.Errorf("endpoint answered %s: %w", status, cloud.ErrPermanent)
}

// RetryAfterError is a retryable endpoint error that asked for a wait
// (Retry-After) before the next attempt. Do waits at least After, or
// returns at once when After would pass ctx's deadline.
type RetryAfterError struct {
	Err   error
	After time.Duration
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %v)", e.Err, e.After)
}

func (e *RetryAfterError) Unwrap() error { return e.Err }

// ResponseError is StatusError for resp; on 429 and 503 a Retry-After
// header (seconds or an HTTP date, judged against now) makes it a
// *RetryAfterError.
func ResponseError(resp *http.Response, now time.Time) error {
	err := StatusError(resp.StatusCode, resp.Status)
	if err == nil || (resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode != http.StatusServiceUnavailable) {
		return err
	}
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return err
	}
	if secs, perr := strconv.Atoi(v); perr == nil && secs >= 0 {
		return &RetryAfterError{Err: err, After: time.Duration(secs) * time.Second}
	}
	if at, perr := http.ParseTime(v); perr == nil {
		return &RetryAfterError{Err: err, After: max(at.Sub(now), 0)}
	}
	return err
}
