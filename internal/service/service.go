// Package service runs a program's life the same way in all three Passline
// programs: start it, tell systemd it is ready, keep the systemd watchdog
// fed while the program is alive, wait for the stop signal, and stop it.
// Stack undoes a start-up in reverse order.
//
// It is plumbing only: it knows no Passline domain type.
package service

import (
	"context"
	"io"
	"log/slog"
)

// Program is what Run starts and stops. Run starts everything and returns
// once the program serves; Close undoes Run in reverse.
type Program interface {
	Run(ctx context.Context) error
	Close() error
}

// Checker is a Program that can tell whether it still works. Run feeds the
// systemd watchdog only while Alive returns nil, so a wedged program is
// restarted by systemd.
type Checker interface {
	Alive() error
}

// Run starts p, notifies systemd (Notify, with p's Alive when p is a
// Checker), waits until ctx ends, and returns p.Close's error; Alive never
// runs concurrently with Close. A failed notify is logged, never fatal:
// the program works without systemd. Give it the signal context
// (signal.NotifyContext with SIGINT and SIGTERM).
func Run(ctx context.Context, p Program, log *slog.Logger) error {
	if err := p.Run(ctx); err != nil {
		return err
	}
	alive := func() error { return nil }
	if c, ok := p.(Checker); ok {
		alive = c.Alive
	}
	stopped, err := Notify(ctx, log, alive)
	if err != nil {
		log.Warn("systemd notify", "err", err)
	}
	<-ctx.Done()
	<-stopped
	log.Info("stopping")
	return p.Close()
}

// NewLogger is the programs' log: text lines on w at level ("debug",
// "info", "warn", "error"; info when empty or unknown, which the programs'
// config validation refuses before this runs).
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}
