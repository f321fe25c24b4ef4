package mqttlisten_test

import (
	"bytes"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/auth"

	"github.com/passline/passline/internal/mqttlisten"
)

// syncBuf is a log sink the server's goroutines and the test share.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// serve starts a mochi server on a mqttlisten.TCP bound to loopback.
func serve(t *testing.T, logs *syncBuf) (*mochi.Server, string) {
	t.Helper()
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	srv := mochi.New(&mochi.Options{Logger: log})
	if err := srv.AddHook(new(auth.AllowHook), nil); err != nil {
		t.Fatal(err)
	}
	l := mqttlisten.NewTCP("t", "127.0.0.1:0", nil)
	if err := srv.AddListener(l); err != nil {
		t.Fatal(err)
	}
	if err := srv.Serve(); err != nil {
		t.Fatal(err)
	}
	return srv, l.Address()
}

// connectPacket is an MQTT 3.1.1 CONNECT with clean session, keep-alive
// 30 s, client id "c".
var connectPacket = []byte{0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 30, 0, 1, 'c'}

// TestCloseWhileClientsConnect shuts the server down while clients keep
// connecting: some are mid-CONNECT, some connected, some accepted and not
// yet attached. Under -race, mochi's own TCP listener lets Server.Close's
// ClientsWg.Wait race an attaching client's Add (mochi-mqtt/server#541);
// with this listener the detector stays quiet, Close returns, and no
// connection is left for the drain timeout.
func TestCloseWhileClientsConnect(t *testing.T) {
	for i := range 20 {
		logs := new(syncBuf)
		srv, addr := serve(t, logs)
		stop := make(chan struct{})
		var dialers sync.WaitGroup
		for range 4 {
			dialers.Add(1)
			go func() {
				defer dialers.Done()
				for n := 0; n < 200; n++ {
					select {
					case <-stop:
						return
					default:
					}
					c, err := net.DialTimeout("tcp", addr, time.Second)
					if err != nil {
						return // the listener is closed
					}
					if n%2 == 0 {
						_, _ = c.Write(connectPacket)
					}
					_ = c.Close()
				}
			}()
		}
		time.Sleep(time.Duration(i%5) * time.Millisecond)
		closed := make(chan struct{})
		go func() {
			_ = mqttlisten.Shutdown(srv)
			close(closed)
		}()
		select {
		case <-closed:
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: Close still waiting after 30 s", i)
		}
		close(stop)
		dialers.Wait()
		if s := logs.String(); bytes.Contains([]byte(s), []byte("never took up")) {
			t.Fatalf("round %d: a connection waited out the drain timeout:\n%s", i, s)
		}
	}
}

// TestCloseEndsSilentConnection: a connection accepted that never sends
// CONNECT would keep mochi's attach goroutine (and so Server.Close)
// waiting; Close closes it.
func TestCloseEndsSilentConnection(t *testing.T) {
	logs := new(syncBuf)
	srv, addr := serve(t, logs)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// A connected client too, which the server disconnects itself.
	d, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Write(connectPacket); err != nil {
		t.Fatal(err)
	}
	ack := make([]byte, 4)
	_ = d.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := d.Read(ack); err != nil || ack[0] != 0x20 {
		t.Fatalf("CONNACK: % x, %v", ack, err)
	}
	done := make(chan struct{})
	go func() {
		_ = mqttlisten.Shutdown(srv)
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Close still waiting after 30 s")
	}
	if s := logs.String(); bytes.Contains([]byte(s), []byte("never took up")) {
		t.Fatalf("silent connection waited out the drain timeout:\n%s", s)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("silent connection still open after Close")
	}
}

// TestAddressIsBound: Address names the port Init bound, not port 0.
func TestAddressIsBound(t *testing.T) {
	l := mqttlisten.NewTCP("t", "127.0.0.1:0", nil)
	if got := l.Address(); got != "127.0.0.1:0" {
		t.Fatalf("before Init: %q", got)
	}
	if err := l.Init(slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	defer l.Close(nil)
	if got := l.Address(); got == "127.0.0.1:0" {
		t.Fatalf("after Init: %q, want the bound port", got)
	}
}
