package agenttest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/passline/passline/internal/freeport"
)

// Mosquitto is a real mosquitto process owned by one test: its own config,
// a free loopback port (never 1883) and a persistence directory under the
// test's temp dir, so it can be stopped and started again on the same
// address with the same sessions and queued messages.
type Mosquitto struct {
	tb   testing.TB
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	exit chan error
}

// mosquittoConf keeps every session and every queued QoS 1 message across
// a restart: persistence on, the database written on a clean shutdown
// (SIGTERM) and every second while running, no per-client queue limit
// (the default 1000 would drop messages queued for a slow or absent agent).
const mosquittoConf = `listener %d 127.0.0.1
allow_anonymous true
user root
persistence true
persistence_location %s/
persistence_file mosquitto.db
autosave_interval 1
autosave_on_changes false
max_queued_messages 0
max_inflight_messages 20
queue_qos0_messages false
persistent_client_expiration 1h
log_dest file %s
log_type error
log_type warning
log_type notice
log_type information
`

// StartMosquitto starts mosquitto from PATH or /usr/sbin, skipping the test
// when the binary is absent. Cleanup stops it.
func StartMosquitto(tb testing.TB) *Mosquitto {
	tb.Helper()
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		if bin, err = exec.LookPath("/usr/sbin/mosquitto"); err != nil {
			tb.Skip("mosquitto binary not found (apt-get install mosquitto): skipping the real-broker restart test")
		}
	}
	m := &Mosquitto{tb: tb, bin: bin, dir: tb.TempDir(), port: freeport.Port(tb)}
	conf := fmt.Sprintf(mosquittoConf, m.port, m.dir, filepath.Join(m.dir, "mosquitto.log"))
	if err := os.WriteFile(m.conf(), []byte(conf), 0o600); err != nil {
		tb.Fatal(err)
	}
	m.Start()
	tb.Cleanup(m.Stop)
	return m
}

func (m *Mosquitto) conf() string { return filepath.Join(m.dir, "mosquitto.conf") }

// URL is the broker's client URL.
func (m *Mosquitto) URL() string { return fmt.Sprintf("tcp://127.0.0.1:%d", m.port) }

// Start runs the broker and returns once it accepts connections.
func (m *Mosquitto) Start() {
	m.tb.Helper()
	m.cmd = exec.Command(m.bin, "-c", m.conf())
	if err := m.cmd.Start(); err != nil {
		m.tb.Fatalf("start mosquitto: %v", err)
	}
	m.exit = make(chan error, 1)
	go func(c *exec.Cmd, exit chan<- error) { exit <- c.Wait() }(m.cmd, m.exit)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", m.URL()[len("tcp://"):], 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		select {
		case err := <-m.exit:
			m.cmd = nil
			m.tb.Fatalf("mosquitto exited at start (%v); log: %s", err, m.Log())
		default:
		}
		if time.Now().After(deadline) {
			m.tb.Fatalf("mosquitto not listening on %d after 10 s; log: %s", m.port, m.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop sends SIGTERM, on which mosquitto writes its persistence file, and
// waits for the process to exit (SIGKILL after 10 s, failing the test).
func (m *Mosquitto) Stop() {
	if m.cmd == nil {
		return
	}
	defer func() { m.cmd = nil }()
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.exit:
	case <-time.After(10 * time.Second):
		_ = m.cmd.Process.Kill()
		<-m.exit
		m.tb.Errorf("mosquitto ignored SIGTERM for 10 s; killed")
	}
}

// Restart stops the broker, waits pause, and starts it again on the same
// port and persistence directory.
func (m *Mosquitto) Restart(pause time.Duration) {
	m.tb.Helper()
	m.Stop()
	time.Sleep(pause)
	m.Start()
}

// Log is the broker's log so far.
func (m *Mosquitto) Log() string {
	b, _ := os.ReadFile(filepath.Join(m.dir, "mosquitto.log"))
	return string(b)
}
