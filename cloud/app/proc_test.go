package app_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passline/passline/cloud/app"
	"github.com/passline/passline/cloud/relaytest"
)

// relayNode is a relay the scale test can kill like a crash.
type relayNode interface {
	kill()
	name() string
}

type inprocRelay struct{ m *app.Main }

func (r inprocRelay) kill()        { r.m.Crash() }
func (r inprocRelay) name() string { return "in-process relay" }

// procRelay is a passline-cloud process; kill sends SIGKILL.
type procRelay struct {
	cmd      *exec.Cmd
	httpAddr string // from the "serving" log line
	mu       sync.Mutex
	logs     strings.Builder
}

var servingHTTP = regexp.MustCompile(`http=(\S+)`)

func (p *procRelay) name() string { return fmt.Sprintf("passline-cloud pid %d", p.cmd.Process.Pid) }

func (p *procRelay) kill() {
	_ = p.cmd.Process.Kill()
	_ = p.cmd.Wait()
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// relayBinary builds passline-cloud once per test run.
func relayBinary(t *testing.T) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "passline-cloud-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "passline-cloud")
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		out, err := exec.Command(goBin, "build", "-o", binPath, "github.com/passline/passline/cloud/cmd/passline-cloud").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build passline-cloud: %v: %s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// startProcRelay runs passline-cloud against natsURL and waits until it
// serves. It is stopped with SIGTERM in cleanup unless killed before.
func startProcRelay(t *testing.T, natsURL string, partitions int) *procRelay {
	t.Helper()
	return runProcRelay(t, func(dir string) string {
		return fmt.Sprintf(`nats: {url: %q}
data_dir: %q
http: {listen: "127.0.0.1:0"}
stream: {replicas: 3, duplicate_window: 1m, max_age: 1h, partitions: %d}
consumer: {ack_wait: 3s, max_deliver: 20, backoff: [100ms, 200ms]}
relay: {channel_timeout: 500ms, workers: 16, channel_workers: 16, connections: 2, ready_resend: 0s}
limits: {tiers: {standard: {per_minute: 0}}}
log_level: info
auth: {insecure_dev: true}
`, natsURL, dir, partitions)
	})
}

// runProcRelay runs passline-cloud with the config config(dir) returns
// for a temp dir and waits until it serves (its HTTP address is then in
// httpAddr). It is stopped with SIGTERM in cleanup unless killed before.
func runProcRelay(t *testing.T, config func(dir string) string) *procRelay {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "cloud.yaml")
	if err := os.WriteFile(path, []byte(config(dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &procRelay{cmd: exec.Command(relayBinary(t), "run", "-config", path)}
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go p.scan(stderr, ready)
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Signal(os.Interrupt)
			done := make(chan struct{})
			go func() { _ = p.cmd.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				p.kill()
			}
		}
	})
	select {
	case <-ready:
		return p
	case <-time.After(90 * time.Second):
		p.mu.Lock()
		defer p.mu.Unlock()
		t.Fatalf("passline-cloud did not start in 90s:\n%s", p.logs.String())
		return nil
	}
}

func (p *procRelay) scan(r io.Reader, ready chan<- struct{}) {
	s := bufio.NewScanner(r)
	once := sync.Once{}
	for s.Scan() {
		p.mu.Lock()
		if p.logs.Len() < 1<<20 {
			p.logs.WriteString(s.Text() + "\n")
		}
		p.mu.Unlock()
		if strings.Contains(s.Text(), "passline-cloud serving") {
			once.Do(func() {
				if m := servingHTTP.FindStringSubmatch(s.Text()); m != nil {
					p.httpAddr = m[1]
				}
				close(ready)
			})
		}
	}
}

// startRelayNode starts a relay process, or an in-process Main when
// PASSLINE_SCALE_INPROC is set, for decisions spread over partitions.
func startRelayNode(t *testing.T, natsURL string, partitions int) relayNode {
	if os.Getenv("PASSLINE_SCALE_INPROC") != "" {
		cfg := relaytest.Config(t.TempDir())
		cfg.NATS.Embedded.Enabled = false
		cfg.NATS.URL = natsURL
		cfg.Stream.Replicas = 3
		cfg.Consumer.AckWait = 3 * time.Second
		cfg.Consumer.MaxDeliver = 20
		cfg.Stream.Partitions = partitions
		cfg.Relay.ReadyResend = 0 // as startProcRelay
		return inprocRelay{relaytest.MustRun(t, cfg)}
	}
	return startProcRelay(t, natsURL, partitions)
}

// TestMain removes the relay binary built for the scale test.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}
