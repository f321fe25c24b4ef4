package agenttest

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"sync"
)

// Quiet is a logger for tests: silent unless PASSLINE_TEST_LOG is set.
func Quiet() *slog.Logger {
	if os.Getenv("PASSLINE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Logs is a log sink a component's goroutines and the test share: the
// test reads what was logged with String.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Logger logs, as text, into l.
func (l *Logs) Logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// Write implements io.Writer.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything logged so far.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
