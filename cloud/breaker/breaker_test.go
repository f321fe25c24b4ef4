package breaker_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passline/passline/cloud/breaker"
	"github.com/prometheus/client_golang/prometheus"
)

// clock is a fake, settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// call makes one call through b with outcome o; it reports whether b allowed it.
func call(t *testing.T, b *breaker.Breaker, o breaker.Outcome) bool {
	t.Helper()
	done, err := b.Allow()
	if err != nil {
		if !errors.Is(err, breaker.ErrOpen) {
			t.Fatalf("Allow: %v, want nil or ErrOpen", err)
		}
		return false
	}
	done(o)
	return true
}

func TestBreakerTransitions(t *testing.T) {
	const (
		S = breaker.Success
		F = breaker.Failure
		I = breaker.Ignored
	)
	cfg := breaker.Config{Failures: 3, FailureRatio: 0.5, MinRequests: 6, Window: time.Minute, CoolDown: 10 * time.Second}
	tests := []struct {
		name  string
		steps []breaker.Outcome
		want  breaker.State
	}{
		{"stays closed on success", []breaker.Outcome{S, S, S, S}, breaker.Closed},
		{"two failures are not enough", []breaker.Outcome{F, F}, breaker.Closed},
		{"three consecutive failures open", []breaker.Outcome{F, F, F}, breaker.Open},
		{"a success resets the streak", []breaker.Outcome{F, F, S, F, F}, breaker.Closed},
		{"ignored outcomes count for nothing", []breaker.Outcome{F, I, F, I, S}, breaker.Closed},
		{"ratio opens with enough samples", []breaker.Outcome{F, S, F, S, S, F}, breaker.Open},
		{"ratio below threshold stays closed", []breaker.Outcome{F, S, S, F, S, S, S}, breaker.Closed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			b := breaker.New("ep", cfg, clk.Now)
			for _, o := range tt.steps {
				call(t, b, o)
			}
			if got := b.State(); got != tt.want {
				t.Fatalf("state %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBreakerWindowResetsCounts(t *testing.T) {
	clk := newClock()
	b := breaker.New("ep", breaker.Config{Failures: 100, FailureRatio: 0.5, MinRequests: 4, Window: time.Minute}, clk.Now)
	call(t, b, breaker.Failure)
	call(t, b, breaker.Failure)
	clk.Add(2 * time.Minute)
	call(t, b, breaker.Failure)
	call(t, b, breaker.Success)
	if got := b.State(); got != breaker.Closed {
		t.Fatalf("state %v after window reset, want closed (only 2 samples in window)", got)
	}
}

func TestBreakerOpenHalfOpenClosed(t *testing.T) {
	clk := newClock()
	b := breaker.New("ep", breaker.Config{Failures: 2, CoolDown: 10 * time.Second}, clk.Now)
	call(t, b, breaker.Failure)
	call(t, b, breaker.Failure)
	if call(t, b, breaker.Success) {
		t.Fatal("open breaker allowed a call")
	}
	clk.Add(9 * time.Second)
	if b.State() != breaker.Open {
		t.Fatalf("state %v before cool-down ended, want open", b.State())
	}
	clk.Add(time.Second)
	if b.State() != breaker.HalfOpen {
		t.Fatalf("state %v after cool-down, want half-open", b.State())
	}
	// One trial at a time: a second caller is refused while the first is out.
	done, err := b.Allow()
	if err != nil {
		t.Fatalf("half-open refused the trial call: %v", err)
	}
	if _, err := b.Allow(); !errors.Is(err, breaker.ErrOpen) {
		t.Fatalf("second trial call: %v, want ErrOpen", err)
	}
	done(breaker.Failure)
	if b.State() != breaker.Open {
		t.Fatalf("failed trial left state %v, want open", b.State())
	}
	clk.Add(10 * time.Second)
	if !call(t, b, breaker.Success) {
		t.Fatal("half-open refused the trial call after the second cool-down")
	}
	if b.State() != breaker.Closed {
		t.Fatalf("successful trial left state %v, want closed", b.State())
	}
}

func TestBreakerStaleOutcomeIgnored(t *testing.T) {
	clk := newClock()
	b := breaker.New("ep", breaker.Config{Failures: 1, CoolDown: time.Second}, clk.Now)
	slow, err := b.Allow()
	if err != nil {
		t.Fatal(err)
	}
	call(t, b, breaker.Failure) // opens
	slow(breaker.Success)       // started while closed: must not close the open breaker
	if b.State() != breaker.Open {
		t.Fatalf("stale success changed state to %v", b.State())
	}
	slow(breaker.Failure) // done is once-only
}

func TestCollectorExportsStates(t *testing.T) {
	clk := newClock()
	reg := prometheus.NewRegistry()
	c := breaker.NewCollector()
	reg.MustRegister(c)
	open := breaker.New("https://a.example/hook", breaker.Config{Failures: 1}, clk.Now)
	closed := breaker.New("gw", breaker.Config{}, clk.Now)
	c.Add("webhook", open)
	c.Add("sms", closed)
	call(t, open, breaker.Failure)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetValue())
			}
			got[strings.Join(labels, "|")] = m.GetGauge().GetValue()
		}
	}
	if got["webhook|https://a.example/hook"] != 1 || got["sms|gw"] != 0 || len(got) != 2 {
		t.Fatalf("gauges %v, want webhook open (1) and sms closed (0)", got)
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []breaker.Config{{Failures: -1}, {FailureRatio: 2}, {CoolDown: -time.Second}}
	for _, c := range bad {
		if err := c.Validate("x.breaker"); err == nil || !strings.HasPrefix(err.Error(), "x.breaker.") {
			t.Errorf("Validate(%+v) = %v, want an error naming x.breaker.*", c, err)
		}
	}
	if err := breaker.DefaultConfig().Validate("x"); err != nil {
		t.Errorf("default config invalid: %v", err)
	}
}
