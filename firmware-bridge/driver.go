package bridge

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
)

// Driver is one device driver as the bridge runs it: Start begins reading
// (or serving) on goroutines of its own and returns at once; Close stops
// them, waits for them, and reports the driver's devices offline. Close
// after a Start that failed, or without Start, does nothing.
type Driver interface {
	Start(ctx context.Context) error
	Close() error
}

// Loop is the start and stop every driver shares: one goroutine from Start
// until Close. Drivers keep a Loop and call Go from Start and Stop from
// Close; the zero value is ready to use.
type Loop struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	ended  atomic.Bool // run returned
}

// Go runs run on its own goroutine with a context that ends at Stop (or
// when ctx ends).
func (l *Loop) Go(ctx context.Context, run func(ctx context.Context)) {
	l.ctx, l.cancel = context.WithCancel(ctx)
	l.ended.Store(false)
	l.wg.Add(1)
	go func(ctx context.Context) {
		defer l.wg.Done()
		defer l.ended.Store(true)
		run(ctx)
	}(l.ctx)
}

// ErrLoopEnded is Alive's answer once a loop has returned by itself.
var ErrLoopEnded = errors.New("device loop returned before the driver was closed")

// Alive is nil while the loop runs (and before Go, and after Stop). It is
// ErrLoopEnded once run returned while its context had not ended: the
// device is no longer read and only a restart brings it back, so the
// bridge's systemd watchdog stops being fed. Do not call it concurrently
// with Go or Stop.
func (l *Loop) Alive() error {
	if l.ctx != nil && l.ended.Load() && l.ctx.Err() == nil {
		return ErrLoopEnded
	}
	return nil
}

// Stop ends the loop's context, calls interrupt (when set) to unblock a
// read the context cannot reach, and waits for the loop to return. It
// reports false when Go never ran, so a driver reports its device offline
// only when it had started.
func (l *Loop) Stop(interrupt func()) bool {
	if l.cancel == nil {
		return false
	}
	l.cancel()
	if interrupt != nil {
		interrupt()
	}
	l.wg.Wait()
	return true
}
