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
