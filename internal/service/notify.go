package service

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// Notify tells systemd (a Type=notify unit) that the program is ready and,
// when the unit sets WatchdogSec, sends WATCHDOG=1 at a third of its
// interval for as long as alive returns nil; a failing alive stops the
// pings, and systemd restarts the program once the interval passes. When
// ctx ends it sends STOPPING=1 and stops; the returned channel is closed
// once it has, so alive is never called after that. Outside systemd (no
// NOTIFY_SOCKET) it does nothing: the channel is closed already.
func Notify(ctx context.Context, log *slog.Logger, alive func() error) (stopped <-chan struct{}, err error) {
	done := make(chan struct{})
	sent, err := daemon.SdNotify(false, daemon.SdNotifyReady)
	if err != nil || !sent { // not under systemd when !sent
		close(done)
		if err != nil {
			return done, fmt.Errorf("sd_notify READY: %w", err)
		}
		return done, nil
	}
	every, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		close(done)
		return done, fmt.Errorf("watchdog: %w", err)
	}
	go func() {
		defer close(done)
		feedWatchdog(ctx, log, every, alive)
	}()
	return done, nil
}

// feedWatchdog pings every third of every (never when every is 0) while
// alive returns nil, and sends STOPPING=1 when ctx ends.
func feedWatchdog(ctx context.Context, log *slog.Logger, every time.Duration, alive func() error) {
	var tick <-chan time.Time
	if every > 0 {
		t := time.NewTicker(every / 3)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			_, _ = daemon.SdNotify(false, daemon.SdNotifyStopping)
			return
		case <-tick:
			if err := alive(); err != nil {
				log.Error("liveness check failed; not pinging the systemd watchdog", "err", err)
				continue
			}
			if _, err := daemon.SdNotify(false, daemon.SdNotifyWatchdog); err != nil {
				log.Warn("sd_notify WATCHDOG", "err", err)
			}
		}
	}
}
