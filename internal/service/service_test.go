package service_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/passline/passline/internal/service"
)

// notifySocket listens where systemd would, sets NOTIFY_SOCKET and a
// watchdog of interval for this test, and returns the datagrams received.
func notifySocket(t *testing.T, interval time.Duration) <-chan string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	t.Setenv("NOTIFY_SOCKET", path)
	t.Setenv("WATCHDOG_USEC", strconv.FormatInt(interval.Microseconds(), 10))
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	ch := make(chan string, 256)
	go func() {
		buf := make([]byte, 512)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			select {
			case ch <- string(buf[:n]):
			default:
			}
		}
	}()
	return ch
}

// next returns the next datagram, or "" after wait.
func next(ch <-chan string, wait time.Duration) string {
	select {
	case m := <-ch:
		return m
	case <-time.After(wait):
		return ""
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestNotifyReadyWatchdogStopping(t *testing.T) {
	msgs := notifySocket(t, 300*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stopped, err := service.Notify(ctx, discard(), func() error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"READY=1", "WATCHDOG=1", "WATCHDOG=1"} {
		if got := next(msgs, 10*time.Second); got != want {
			t.Fatalf("message %d = %q, want %q", i, got, want)
		}
	}
	cancel()
	for got := next(msgs, 10*time.Second); got != "STOPPING=1"; got = next(msgs, 10*time.Second) {
		if got != "WATCHDOG=1" {
			t.Fatalf("got %q while stopping, want STOPPING=1", got)
		}
	}
	<-stopped
}

// A program that stops answering stops the pings; once it answers again
// they resume.
func TestNotifyPingsOnlyWhileAlive(t *testing.T) {
	msgs := notifySocket(t, 150*time.Millisecond)
	var dead atomic.Bool
	dead.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := service.Notify(ctx, discard(), func() error {
		if dead.Load() {
			return errors.New("state db does not answer")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if got := next(msgs, 10*time.Second); got != "READY=1" {
		t.Fatalf("first message %q", got)
	}
	if got := next(msgs, time.Second); got != "" {
		t.Fatalf("got %q while the program is dead", got)
	}
	dead.Store(false)
	if got := next(msgs, 10*time.Second); got != "WATCHDOG=1" {
		t.Fatalf("got %q once alive again, want WATCHDOG=1", got)
	}
}

func TestNotifyOutsideSystemdDoesNothing(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	called := false
	stopped, err := service.Notify(context.Background(), discard(), func() error { called = true; return nil })
	if err != nil {
		t.Fatalf("without NOTIFY_SOCKET: %v", err)
	}
	<-stopped // closed at once: nothing runs
	if called {
		t.Fatal("alive was checked outside systemd")
	}
}

// program records its life; runErr fails Run, closeErr fails Close.
// Alive and Close touch checks without a lock, so -race fails the test if
// Run let them overlap.
type program struct {
	runErr, closeErr error
	calls            []string
	checks           int
}

func (p *program) Run(context.Context) error { p.calls = append(p.calls, "run"); return p.runErr }
func (p *program) Alive() error              { p.checks++; return nil }
func (p *program) Close() error {
	p.calls = append(p.calls, "close")
	p.checks = -1
	return p.closeErr
}

var _ service.Checker = (*program)(nil)

func TestRun(t *testing.T) {
	boom, stuck := errors.New("boom"), errors.New("stuck")
	tests := []struct {
		name             string
		runErr, closeErr error
		want             error
		calls            []string
		msgs             []string
	}{
		{"serves until the signal", nil, nil, nil, []string{"run", "close"}, []string{"READY=1", "WATCHDOG=1", "STOPPING=1"}},
		{"close error returned", nil, stuck, stuck, []string{"run", "close"}, []string{"READY=1"}},
		{"run error: no ready, no close", boom, nil, boom, []string{"run"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msgs := notifySocket(t, 150*time.Millisecond)
			p := &program{runErr: tt.runErr, closeErr: tt.closeErr}
			ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
			defer cancel()
			if err := service.Run(ctx, p, discard()); !errors.Is(err, tt.want) {
				t.Fatalf("Run = %v, want %v", err, tt.want)
			}
			if !slices.Equal(p.calls, tt.calls) {
				t.Fatalf("calls %v, want %v", p.calls, tt.calls)
			}
			var got []string
			for m := next(msgs, 500*time.Millisecond); m != ""; m = next(msgs, 500*time.Millisecond) {
				got = append(got, m)
			}
			for _, want := range tt.msgs {
				if !slices.Contains(got, want) {
					t.Errorf("systemd got %v, want it to contain %s", got, want)
				}
			}
			if tt.msgs == nil && len(got) > 0 {
				t.Errorf("systemd got %v after a failed start", got)
			}
		})
	}
}

func TestStackClosesInReverseOnce(t *testing.T) {
	var order []string
	var s service.Stack
	s.PushFunc("db", func() { order = append(order, "db") })
	for _, name := range []string{"mqtt", "http", "sim"} {
		s.Push(name, func() error {
			order = append(order, name)
			if name == "http" {
				return errors.New("shutdown timed out")
			}
			return nil
		})
	}
	err := s.Close()
	if want := []string{"sim", "http", "mqtt", "db"}; !slices.Equal(order, want) {
		t.Fatalf("closed %v, want %v", order, want)
	}
	if err == nil || !strings.Contains(err.Error(), "close http: shutdown timed out") {
		t.Fatalf("err %v", err)
	}
	if err := s.Close(); err != nil || len(order) != 4 {
		t.Fatalf("second Close: %v, closed %v", err, order)
	}
}
