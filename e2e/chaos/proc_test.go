package chaos_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildBinaries builds passline-agent and passline-cloud into a temp dir.
// They are built without -race even when this test binary is: the race
// detector makes them several times slower and bigger, which on a loaded
// 2-core machine stretches restarts past the run's timeouts, and what this
// run checks is end-to-end delivery, not data races (the agent and relay
// packages' own tests run under -race).
func buildBinaries(t *testing.T) (agentBin, cloudBin string) {
	t.Helper()
	dir := t.TempDir()
	agentBin, cloudBin = filepath.Join(dir, "passline-agent"), filepath.Join(dir, "passline-cloud")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, b := range []struct{ out, pkg string }{{agentBin, "agent/cmd/passline-agent"}, {cloudBin, "cloud/cmd/passline-cloud"}} {
		wg.Go(func() {
			out, err := exec.Command("go", "build", "-o", b.out, "github.com/passline/passline/"+b.pkg).CombinedOutput()
			if err != nil {
				errs[i] = fmt.Errorf("go build %s: %v: %s", b.pkg, err, out)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return agentBin, cloudBin
}

// proc is one real program process, restartable with the same config.
type proc struct {
	name, bin, cfg string
	args           []string
	ready          string // a log line fragment that means "serving"; "" for none
	logPath        string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed once cmd has been waited for
}

// start runs the program and, when p.ready is set, waits up to 60 s for
// that log line.
func (p *proc) start() error {
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(p.bin, p.args...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = logf, pw
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	ready := make(chan struct{})
	go func() {
		once := sync.Once{}
		s := bufio.NewScanner(pr)
		s.Buffer(make([]byte, 64<<10), 1<<20)
		for s.Scan() {
			fmt.Fprintln(logf, s.Text())
			if p.ready == "" || strings.Contains(s.Text(), p.ready) {
				once.Do(func() { close(ready) })
			}
		}
		logf.Close()
	}()
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); pw.Close(); close(exited) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, exited
	p.mu.Unlock()
	if p.ready == "" {
		return nil
	}
	select {
	case <-ready:
		return nil
	case <-exited:
		b, _ := os.ReadFile(p.logPath)
		return fmt.Errorf("%s exited: %s; log ends:\n%s", p.name, cmd.ProcessState, b[max(0, len(b)-3000):])
	case <-time.After(60 * time.Second):
		b, _ := os.ReadFile(p.logPath)
		return fmt.Errorf("%s not serving in 60s; log %s ends:\n%s", p.name, p.logPath, b[max(0, len(b)-3000):])
	}
}

// supervise starts the program as its systemd unit's Restart=always
// (systemd/passline-*.service) would: a start that fails, say because JetStream
// timed out while the cluster elected leaders after a node restart, is
// retried, up to 3 tries.
func (p *proc) supervise(t *testing.T) error {
	var err error
	for try := 1; try <= 3; try++ {
		if err = p.start(); err == nil {
			return nil
		}
		t.Logf("start %s (try %d) failed: %s", p.name, try, lastLine(err))
		p.kill()
		time.Sleep(time.Second)
	}
	return err
}

// lastLine is the last non-empty line of err: the program's fatal error
// when err ends with its log.
func lastLine(err error) string {
	s := strings.TrimSpace(err.Error())
	return s[strings.LastIndex(s, "\n")+1:]
}

// signal sends sig to the running process.
func (p *proc) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return fmt.Errorf("%s not running", p.name)
	}
	return p.cmd.Process.Signal(sig)
}

// kill SIGKILLs the process and waits (up to 2 s) until it is gone.
func (p *proc) kill() {
	cmd, done := p.take()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT)
	_ = cmd.Process.Kill()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
	}
}

// stop ends the process with SIGTERM (SIGKILL after 20 s).
func (p *proc) stop() {
	cmd, done := p.take()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT)
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = cmd.Process.Kill()
		<-done
	}
}

// take removes the running command from p, so it is signalled only once.
func (p *proc) take() (*exec.Cmd, chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd, done := p.cmd, p.done
	p.cmd, p.done = nil, nil
	return cmd, done
}
