package agenttest

import (
	"io"
	"log/slog"
	"os"
)

// Quiet is a logger for tests: silent unless PASSLINE_TEST_LOG is set.
func Quiet() *slog.Logger {
	if os.Getenv("PASSLINE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
