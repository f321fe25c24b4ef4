package breaker_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/breaker"
)

var errDown = errors.New("503 from endpoint")

// script returns an op that returns errs in turn (nil after they run out)
// and counts its calls.
func script(calls *int, errs ...error) func(context.Context) error {
	return func(context.Context) error {
		*calls++
		if *calls <= len(errs) {
			return errs[*calls-1]
		}
		return nil
	}
}

func TestDo(t *testing.T) {
	fast := breaker.Retry{Attempts: 4, Initial: time.Millisecond, Max: 2 * time.Millisecond}
	permanent := fmt.Errorf("404: %w", cloud.ErrPermanent)
	tests := []struct {
		name      string
		errs      []error
		wantCalls int
		wantErr   error // nil: success
	}{
		{"first try", nil, 1, nil},
		{"succeeds on third", []error{errDown, errDown}, 3, nil},
		{"permanent stops at once", []error{permanent}, 1, cloud.ErrPermanent},
		{"gives up after attempts", []error{errDown, errDown, errDown, errDown, errDown}, 4, errDown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := breaker.New("ep", breaker.Config{Failures: 100}, nil)
			calls := 0
			err := breaker.Do(context.Background(), b, fast, script(&calls, tt.errs...))
			if calls != tt.wantCalls {
				t.Errorf("op called %d times, want %d", calls, tt.wantCalls)
			}
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Do = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestDoFailsFastWhenOpen(t *testing.T) {
	b := breaker.New("ep", breaker.Config{Failures: 2, CoolDown: time.Hour}, nil)
	calls := 0
	r := breaker.Retry{Attempts: 5, Initial: time.Millisecond}
	err := breaker.Do(context.Background(), b, r, script(&calls, errDown, errDown, errDown))
	if !errors.Is(err, breaker.ErrOpen) || !errors.Is(err, errDown) {
		t.Fatalf("Do = %v, want ErrOpen joined with the last endpoint error", err)
	}
	if calls != 2 {
		t.Fatalf("op called %d times, want 2 (then the breaker opened)", calls)
	}
	err = breaker.Do(context.Background(), b, r, script(&calls))
	if !errors.Is(err, breaker.ErrOpen) || calls != 2 {
		t.Fatalf("open breaker: Do = %v with %d calls, want ErrOpen and no call", err, calls)
	}
}

func TestDoStopsBeforeDeadline(t *testing.T) {
	b := breaker.New("ep", breaker.Config{Failures: 100}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	calls := 0
	// The first wait (1 h) would end after the deadline: Do must return at
	// once with the endpoint's error rather than sleep.
	err := breaker.Do(ctx, b, breaker.Retry{Attempts: 3, Initial: time.Hour}, script(&calls, errDown))
	if !errors.Is(err, errDown) || calls != 1 {
		t.Fatalf("Do = %v after %d calls, want errDown after 1", err, calls)
	}
	if ctx.Err() != nil {
		t.Fatal("Do slept until the deadline instead of returning at once")
	}
}

func TestDoHangCountsAsFailureCancelDoesNot(t *testing.T) {
	b := breaker.New("ep", breaker.Config{Failures: 1, CoolDown: time.Hour}, nil)
	hang := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = breaker.Do(ctx, b, breaker.Retry{Attempts: 1}, hang)
	if b.State() != breaker.Closed {
		t.Fatalf("a cancelled call moved the breaker to %v", b.State())
	}
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_ = breaker.Do(ctx, b, breaker.Retry{Attempts: 1}, hang)
	if b.State() != breaker.Open {
		t.Fatalf("a call that hit its deadline left the breaker %v, want open", b.State())
	}
}

func TestRetryWait(t *testing.T) {
	r := breaker.Retry{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 2}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, w := range want {
		if got := r.Wait(i + 1); got != w*time.Millisecond {
			t.Errorf("Wait(%d) = %v, want %v", i+1, got, w*time.Millisecond)
		}
	}
	if err := (breaker.Retry{Jitter: 1.5}).Validate("webhook.retry"); err == nil {
		t.Error("jitter 1.5 accepted")
	}
}

func TestStatusError(t *testing.T) {
	tests := []struct {
		code          int
		ok, permanent bool
	}{
		{200, true, false}, {204, true, false},
		{301, false, true}, {400, false, true}, {401, false, true}, {404, false, true}, {410, false, true},
		{408, false, false}, {429, false, false}, {500, false, false}, {502, false, false}, {503, false, false},
	}
	for _, tt := range tests {
		err := breaker.StatusError(tt.code, fmt.Sprint(tt.code))
		if (err == nil) != tt.ok || errors.Is(err, cloud.ErrPermanent) != tt.permanent {
			t.Errorf("StatusError(%d) = %v, want ok=%v permanent=%v", tt.code, err, tt.ok, tt.permanent)
		}
	}
}

func TestResponseErrorRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	tests := []struct {
		code   int
		header string
		after  time.Duration // 0: not a RetryAfterError
	}{
		{429, "3", 3 * time.Second},
		{503, now.Add(10 * time.Second).Format(http.TimeFormat), 10 * time.Second},
		{503, "soon", 0},
		{500, "3", 0},
		{429, "", 0},
	}
	for _, tt := range tests {
		resp := &http.Response{StatusCode: tt.code, Status: fmt.Sprint(tt.code), Header: http.Header{}}
		if tt.header != "" {
			resp.Header.Set("Retry-After", tt.header)
		}
		err := breaker.ResponseError(resp, now)
		var ra *breaker.RetryAfterError
		if got := errors.As(err, &ra); got != (tt.after > 0) || got && ra.After != tt.after {
			t.Errorf("%d %q: %v, want retry after %v", tt.code, tt.header, err, tt.after)
		}
		if err == nil || errors.Is(err, cloud.ErrPermanent) {
			t.Errorf("%d: %v, want retryable", tt.code, err)
		}
	}
}

func TestDoHonoursRetryAfterWithinDeadline(t *testing.T) {
	b := breaker.New("ep", breaker.Config{Failures: 100}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	calls := 0
	busy := &breaker.RetryAfterError{Err: errDown, After: time.Minute}
	err := breaker.Do(ctx, b, breaker.Retry{Attempts: 5, Initial: time.Millisecond}, script(&calls, busy))
	if calls != 1 || !errors.Is(err, errDown) || ctx.Err() != nil {
		t.Fatalf("Do = %v after %d calls; want an immediate return: Retry-After is past the deadline", err, calls)
	}
	calls = 0
	short := &breaker.RetryAfterError{Err: errDown, After: 20 * time.Millisecond}
	if err := breaker.Do(ctx, b, breaker.Retry{Attempts: 5, Initial: time.Millisecond}, script(&calls, short)); err != nil || calls != 2 {
		t.Fatalf("Do = %v after %d calls; want success on the second", err, calls)
	}
}
