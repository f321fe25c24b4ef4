package ratelimit

import (
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/passline/passline/cloud/httpapi"
)

// Middleware refuses requests over their client's limits with 429, a
// Retry-After header in whole seconds (rounded up, at least 1) and the
// JSON error {"error":{"code":"rate_limited","message":...}}. The client
// and tier come from the token claims that httpapi.Auth.Require put in the
// context, so mount it after Require; a request without claims passes
// untouched. Accepted responses carry X-RateLimit-Limit (per second) and,
// for capped tiers, X-RateLimit-Remaining-Day.
func (l *Limiter) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := httpapi.ClaimsFrom(r.Context())
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		d := l.AllowContext(r.Context(), c.Subject, string(c.Tier))
		w.Header().Set("X-RateLimit-Limit", strconv.Itoa(d.Plan.PerSecond))
		if d.LeftToday >= 0 {
			w.Header().Set("X-RateLimit-Remaining-Day", strconv.Itoa(d.LeftToday))
		}
		if d.Allowed {
			next.ServeHTTP(w, r)
			return
		}
		secs := RetryAfterSeconds(d.RetryAfter)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		msg := "more than %d requests in one second for tier %s; retry after %d s"
		limit := d.Plan.PerSecond
		if d.Limit == LimitDay {
			msg = "daily cap of %d requests reached for tier %s; retry after %d s (next midnight) or move to enterprise"
			limit = d.Plan.PerDay
		}
		httpapi.WriteError(w, httpapi.Errorf(http.StatusTooManyRequests, httpapi.CodeRateLimited, msg, limit, c.Tier, secs))
	})
}

// RetryAfterSeconds rounds d up to whole seconds, at least 1.
func RetryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// Throttle returns a check for keys that are not API clients, such as the
// caller address of POST /oauth/token, limited by the plan of tier; it
// fits token.Handler.Throttle.
func (l *Limiter) Throttle(tier string) func(key string) (time.Duration, bool) {
	return func(key string) (time.Duration, bool) {
		d := l.Allow(key, tier)
		return d.RetryAfter, d.Allowed
	}
}
