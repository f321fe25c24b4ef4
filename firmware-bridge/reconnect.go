package bridge

import (
	"context"
	"log/slog"
	"time"
)

// Reconnect runs session until ctx ends. Each time session fails (a device
// unplugged, a port that cannot open), it logs why, marks the device offline
// through h and tries again after retry. what names the device in logs.
func Reconnect(ctx context.Context, what string, session func(context.Context) error, retry time.Duration, h *Health, log *slog.Logger) {
	for ctx.Err() == nil {
		err := session(ctx)
		if ctx.Err() != nil {
			return
		}
		log.Warn(what+" unavailable; retrying", "err", err, "retry", retry)
		if herr := h.Set(false, err.Error()); herr != nil {
			log.Warn("publish "+what+" status", "err", herr)
		}
		select {
		case <-ctx.Done():
		case <-time.After(retry):
		}
	}
}

// Sessions keeps one device's read session going from Start to Stop: a
// session that fails (device unplugged, port that cannot open) is started
// again Retry later, with the device reported offline and why in between
// (Reconnect), and Stop reports it offline for good. The scale and evdev
// drivers each keep one.
type Sessions struct {
	What   string        // names the device in logs: "scale", "bump bar"
	Health *Health       // the device's health
	Retry  time.Duration // pause before the next session; 0 means 2 s
	Log    *slog.Logger

	loop Loop
}

// Start runs session again and again on its own goroutine until Stop.
func (s *Sessions) Start(ctx context.Context, session func(context.Context) error) {
	if s.Retry <= 0 {
		s.Retry = 2 * time.Second
	}
	s.loop.Go(ctx, func(ctx context.Context) { Reconnect(ctx, s.What, session, s.Retry, s.Health, s.Log) })
}

// Alive is nil while sessions keep being started (see Loop.Alive); a
// device that is away is not an error, as Reconnect keeps retrying it.
func (s *Sessions) Alive() error { return s.loop.Alive() }

// Stop ends the running session (interrupt, when set, unblocks a read the
// context cannot reach), waits for it, and reports the device offline if
// Start had run.
func (s *Sessions) Stop(interrupt func()) {
	if s.loop.Stop(interrupt) {
		_ = s.Health.Set(false, "bridge stopped")
	}
}
