package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// NotifySystemd tells systemd (a Type=notify unit) that the relay is
// ready, and, when the unit sets WatchdogSec, pings the watchdog at a
// third of its interval for as long as its NATS connection is not closed
// for good (a disconnected one reconnects by itself and keeps the pings
// going). When ctx ends it sends STOPPING=1 and stops pinging. Call it
// once, after Run, with the signal context. Outside systemd (no
// NOTIFY_SOCKET) it does nothing.
func (m *Main) NotifySystemd(ctx context.Context) error {
	nc := m.nc
	return notifySystemd(ctx, m.Logger, func() error {
		if nc == nil || nc.IsClosed() {
			return errors.New("nats connection closed")
		}
		return nil
	})
}

// notifySystemd sends READY=1, then WATCHDOG=1 every third of the
// watchdog interval while alive returns nil, and STOPPING=1 when ctx ends.
func notifySystemd(ctx context.Context, log *slog.Logger, alive func() error) error {
	sent, err := daemon.SdNotify(false, daemon.SdNotifyReady)
	if err != nil {
		return fmt.Errorf("sd_notify READY: %w", err)
	}
	if !sent {
		return nil // not under systemd
	}
	every, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return fmt.Errorf("watchdog: %w", err)
	}
	go pingWatchdog(ctx, log, every, alive)
	return nil
}

func pingWatchdog(ctx context.Context, log *slog.Logger, every time.Duration, alive func() error) {
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
