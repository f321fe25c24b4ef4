package app_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	at "github.com/passline/passline/agent/internal/agenttest"
)

// notifySocket listens where systemd would and sets NOTIFY_SOCKET and a
// watchdog of interval for this test; it returns the datagrams received.
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

func expect(t *testing.T, ch <-chan string, want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case got := <-ch:
			if got == want {
				return
			}
		case <-deadline:
			t.Fatalf("no %q from the agent within 10s", want)
		}
	}
}

func TestNotifySystemdReadyWatchdogStopping(t *testing.T) {
	n := at.StartNATS(t, t.TempDir(), -1)
	m := startAgent(t, testConfig("sd-1", n.URL(), t.TempDir()))
	msgs := notifySocket(t, 300*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.NotifySystemd(ctx); err != nil {
		t.Fatal(err)
	}
	expect(t, msgs, "READY=1")
	expect(t, msgs, "WATCHDOG=1")
	expect(t, msgs, "WATCHDOG=1")
	cancel()
	expect(t, msgs, "STOPPING=1")
}

func TestNotifySystemdOutsideSystemdDoesNothing(t *testing.T) {
	n := at.StartNATS(t, t.TempDir(), -1)
	m := startAgent(t, testConfig("sd-2", n.URL(), t.TempDir()))
	t.Setenv("NOTIFY_SOCKET", "")
	if err := m.NotifySystemd(context.Background()); err != nil {
		t.Fatalf("without NOTIFY_SOCKET: %v", err)
	}
}
