package ratelimit_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passline/passline/cloud/natsd/natsdtest"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/ratelimit"
)

func kvCounter(t *testing.T) natsjs.DayCounts {
	t.Helper()
	_, js := natsdtest.JetStream(t)
	state, err := natsjs.SetupAPI(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	return state.Rates
}

// Two replicas sharing one counter accept exactly the daily cap between
// them, even when requests race; the next day starts again.
func TestSharedDailyCapAcrossReplicas(t *testing.T) {
	counter := kvCounter(t)
	clk := &clock{t: t0}
	plans := map[string]ratelimit.Plan{"free": {PerSecond: 1000, PerDay: 25}}
	replicas := []*ratelimit.Limiter{ratelimit.New(plans, clk.Now, nil), ratelimit.New(plans, clk.Now, nil)}
	for _, l := range replicas {
		l.Shared = counter
		l.OnError = func(err error) { t.Errorf("shared counter: %v", err) }
	}
	var accepted atomic.Int32
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 15 {
				if replicas[g%2].Allow("c1", "free").Allowed {
					accepted.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if accepted.Load() != 25 {
		t.Fatalf("accepted %d across replicas, want exactly 25", accepted.Load())
	}
	d := replicas[0].Allow("c1", "free")
	if d.Allowed || d.Limit != ratelimit.LimitDay || d.RetryAfter != 15*time.Hour {
		t.Fatalf("after the cap: %+v", d)
	}
	if !replicas[1].Allow("c2", "free").Allowed {
		t.Fatal("another client shares c1's count")
	}
	clk.Add(15 * time.Hour) // midnight UTC
	if d := replicas[1].Allow("c1", "free"); !d.Allowed || d.LeftToday != 24 {
		t.Fatalf("next day: %+v", d)
	}
}

type brokenCounter struct{}

func (brokenCounter) Take(context.Context, string, string, int) (bool, int, error) {
	return false, 0, errors.New("kv down")
}

func TestSharedCounterFailsOpen(t *testing.T) {
	l := ratelimit.New(map[string]ratelimit.Plan{"free": {PerSecond: 10, PerDay: 1}}, (&clock{t: t0}).Now, nil)
	l.Shared = brokenCounter{}
	var errs []error
	l.OnError = func(err error) { errs = append(errs, err) }
	for i := range 3 {
		if !l.Allow("c", "free").Allowed {
			t.Fatalf("request %d refused while the counter is down", i+1)
		}
	}
	if len(errs) != 3 {
		t.Fatalf("errors reported %d", len(errs))
	}
	// The per-second window still holds without the counter.
	for range 7 {
		l.Allow("c", "free")
	}
	if d := l.Allow("c", "free"); d.Allowed || d.Limit != ratelimit.LimitSecond {
		t.Fatalf("11th in a second: %+v", d)
	}
}
