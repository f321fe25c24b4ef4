package bridge_test

import (
	"context"
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
