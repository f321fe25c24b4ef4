package bridge_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	bridge "github.com/passline/passline/firmware-bridge"
)

// TestLoopStopsWhatItStarted: Stop without Go does nothing and says so;
// after Go, Stop ends the loop's context, runs interrupt while the loop
// may still be blocked, and returns only once the loop has returned.
func TestLoopStopsWhatItStarted(t *testing.T) {
	var l bridge.Loop
	if l.Stop(func() { t.Fatal("interrupt called on a loop never started") }) {
		t.Fatal("Stop reported a loop that never started")
	}
	unblock := make(chan struct{})
	var returned, interrupted atomic.Bool
	l.Go(context.Background(), func(ctx context.Context) {
		<-ctx.Done()
		<-unblock // a read the context cannot reach
		returned.Store(true)
	})
	time.Sleep(10 * time.Millisecond)
	if !l.Stop(func() { interrupted.Store(true); close(unblock) }) {
		t.Fatal("Stop did not report the started loop")
	}
	if !interrupted.Load() || !returned.Load() {
		t.Fatalf("Stop returned with interrupted=%v, loop returned=%v", interrupted.Load(), returned.Load())
	}
}

// TestLoopAliveUntilItEndsByItself: a loop is alive before Go, while it
// runs and after Stop; one whose run returned by itself is not.
func TestLoopAliveUntilItEndsByItself(t *testing.T) {
	var l bridge.Loop
	if err := l.Alive(); err != nil {
		t.Fatalf("before Go: %v", err)
	}
	l.Go(context.Background(), func(ctx context.Context) { <-ctx.Done() })
	if err := l.Alive(); err != nil {
		t.Fatalf("running: %v", err)
	}
	l.Stop(nil)
	if err := l.Alive(); err != nil {
		t.Fatalf("after Stop: %v", err)
	}

	var ended bridge.Loop
	ended.Go(context.Background(), func(context.Context) {}) // a read loop that gave up
	deadline := time.Now().Add(5 * time.Second)
	for ended.Alive() == nil {
		if time.Now().After(deadline) {
			t.Fatal("a loop that returned by itself still reported alive")
		}
		time.Sleep(time.Millisecond)
	}
	if err := ended.Alive(); !errors.Is(err, bridge.ErrLoopEnded) {
		t.Fatalf("Alive = %v, want ErrLoopEnded", err)
	}
	ended.Stop(nil)
	if err := ended.Alive(); err != nil {
		t.Fatalf("after Stop: %v", err)
	}
}
