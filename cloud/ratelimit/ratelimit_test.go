package ratelimit_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/passline/passline/cloud/httpapi"
	"github.com/passline/passline/cloud/ratelimit"
	"github.com/passline/passline/cloud/token"
)

// clock is a fake clock moved by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

var t0 = time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC)

// api is a limited handler; do sends one request as client of tier.
type api struct {
	clk *clock
	lim *ratelimit.Limiter
	h   http.Handler
}

func newAPI(start time.Time, loc *time.Location) *api {
	clk := &clock{t: start}
	lim := ratelimit.New(nil, clk.Now, loc)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	return &api{clk: clk, lim: lim, h: lim.Middleware(ok)}
}

func (a *api) do(client string, tier token.Tier) *httptest.ResponseRecorder {
	claims := &token.Claims{Tier: tier, RegisteredClaims: jwt.RegisteredClaims{Subject: client}}
	r := httptest.NewRequest(http.MethodGet, "/v1/stores/s1/orders/o1", nil)
	r = r.WithContext(httpapi.WithClaims(r.Context(), claims))
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, r)
	return rec
}

func check429(t *testing.T, rec *httptest.ResponseRecorder, retryAfter string) {
	t.Helper()
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("status %d, want 429", rec.Code)
	}
	if got := rec.Header().Get("Retry-After"); got != retryAfter {
		t.Fatalf("Retry-After %q, want %q", got, retryAfter)
	}
	var body struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error.Code != "rate_limited" || body.Error.Message == "" {
		t.Fatalf("429 body %s", rec.Body)
	}
}

func TestFreeEleventhRequestInASecond(t *testing.T) {
	a := newAPI(t0, nil)
	for i := range 10 {
		if rec := a.do("c1", token.TierFree); rec.Code != 200 {
			t.Fatalf("request %d: %d", i+1, rec.Code)
		}
		a.clk.Add(50 * time.Millisecond)
	}
	// 11th request, 500 ms after the first: refused until the first is 1 s old.
	check429(t, a.do("c1", token.TierFree), "1")
	if rec := a.do("c2", token.TierFree); rec.Code != 200 {
		t.Fatal("another client was limited by c1's requests")
	}
	a.clk.Add(499 * time.Millisecond)
	check429(t, a.do("c1", token.TierFree), "1")
	a.clk.Add(time.Millisecond)
	if rec := a.do("c1", token.TierFree); rec.Code != 200 {
		t.Fatalf("request after the window slid: %d", rec.Code)
	}
}

func TestFreeDailyCap(t *testing.T) {
	a := newAPI(t0, nil)
	for i := range 10_000 {
		rec := a.do("c1", token.TierFree)
		if rec.Code != 200 {
			t.Fatalf("request %d refused: %d %s", i+1, rec.Code, rec.Body)
		}
		a.clk.Add(100 * time.Millisecond) // 10 per second: never the per-second limit
	}
	if got := a.lim.Allow("probe-other", "free"); !got.Allowed {
		t.Fatal("cap shared across clients")
	}
	// Now 09:16:40 UTC; the day rolls over at midnight UTC.
	wantRetry := fmt.Sprint(int(time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC).Sub(a.clk.Now()).Seconds()))
	check429(t, a.do("c1", token.TierFree), wantRetry)
	a.clk.Add(10 * time.Hour)
	check429(t, a.do("c1", token.TierFree), fmt.Sprint(int(time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC).Sub(a.clk.Now()).Seconds())))
	a.clk.t = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	rec := a.do("c1", token.TierFree)
	if rec.Code != 200 || rec.Header().Get("X-RateLimit-Remaining-Day") != "9999" {
		t.Fatalf("after midnight: %d remaining %q", rec.Code, rec.Header().Get("X-RateLimit-Remaining-Day"))
	}
}

func TestEnterpriseLimits(t *testing.T) {
	a := newAPI(t0, nil)
	for i := range 100 {
		if rec := a.do("big", token.TierEnterprise); rec.Code != 200 {
			t.Fatalf("request %d: %d", i+1, rec.Code)
		}
	}
	check429(t, a.do("big", token.TierEnterprise), "1")
	a.clk.Add(time.Second)
	for i := range 30_000 { // three free days' worth, in one day: no cap
		if rec := a.do("big", token.TierEnterprise); rec.Code != 200 {
			t.Fatalf("request %d refused: %d", i+1, rec.Code)
		}
		a.clk.Add(10 * time.Millisecond)
	}
	if rec := a.do("big", token.TierEnterprise); rec.Header().Get("X-RateLimit-Remaining-Day") != "" {
		t.Fatal("enterprise shows a daily remaining count")
	}
}

func TestDecisions(t *testing.T) {
	tests := []struct {
		name string
		run  func(l *ratelimit.Limiter, c *clock) ratelimit.Decision
		want ratelimit.Decision
	}{
		{"unknown tier gets free", func(l *ratelimit.Limiter, c *clock) ratelimit.Decision {
			for range 10 {
				l.Allow("x", "gold")
			}
			return l.Allow("x", "gold")
		}, ratelimit.Decision{Limit: ratelimit.LimitSecond, RetryAfter: time.Second, Plan: ratelimit.Plans["free"], LeftToday: 9990}},
		{"tier change keeps today's count", func(l *ratelimit.Limiter, c *clock) ratelimit.Decision {
			for range 5 {
				l.Allow("x", "enterprise")
			}
			return l.Allow("x", "free")
		}, ratelimit.Decision{Allowed: true, Plan: ratelimit.Plans["free"], LeftToday: 9994}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: t0}
			if got := tt.run(ratelimit.New(nil, c.Now, nil), c); got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDayInLocation(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	// 15:59:59 UTC is 23:59:59 in Shanghai: the day ends in one second.
	l := ratelimit.New(map[string]ratelimit.Plan{"free": {PerSecond: 10, PerDay: 1}}, func() time.Time { return time.Date(2026, 11, 24, 15, 59, 59, 0, time.UTC) }, shanghai)
	l.Allow("c", "free")
	if d := l.Allow("c", "free"); d.Allowed || d.Limit != ratelimit.LimitDay || d.RetryAfter != time.Second {
		t.Fatalf("got %+v", d)
	}
}

func TestConcurrentAllowNeverExceeds(t *testing.T) {
	c := &clock{t: t0}
	l := ratelimit.New(nil, c.Now, nil)
	var accepted atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				if l.Allow("c", "free").Allowed {
					accepted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if accepted.Load() != 10 {
		t.Fatalf("accepted %d in one instant, want 10", accepted.Load())
	}
}

func TestForgetsIdleClients(t *testing.T) {
	c := &clock{t: t0}
	l := ratelimit.New(nil, c.Now, nil)
	for i := range 1000 {
		l.Allow(fmt.Sprint("c", i), "free")
	}
	c.Add(24 * time.Hour)
	for range 4096 {
		l.Allow("active", "enterprise")
		c.Add(10 * time.Millisecond)
	}
	if n := l.Clients(); n != 1 {
		t.Fatalf("remembers %d clients after a day, want 1", n)
	}
}

func TestNoClaimsPasses(t *testing.T) {
	a := newAPI(t0, nil)
	rec := httptest.NewRecorder()
	a.h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/oauth/token", nil))
	if rec.Code != 200 {
		t.Fatalf("unauthenticated route limited: %d", rec.Code)
	}
	if ratelimit.RetryAfterSeconds(1500*time.Millisecond) != 2 || ratelimit.RetryAfterSeconds(0) != 1 {
		t.Fatal("RetryAfterSeconds rounding")
	}
}
