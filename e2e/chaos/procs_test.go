package chaos_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	agentapp "github.com/passline/passline/agent/app"
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

// agentProc is one store's passline-agent.
type agentProc struct {
	*proc
	store, http string
}

func newAgent(t *testing.T, bin, dir, store, mqttURL, natsURL string) *agentProc {
	t.Helper()
	a := &agentProc{store: store, http: freeAddr(t)}
	cfg := fmt.Sprintf("store: %s\ndata_dir: %s\nlog_level: warn\nmqtt:\n  url: %s\n  client_id: %s-agent\nnats:\n  url: %s\n  replicas: 3\n  replay_after: 30s\nhttp:\n  listen: %s\ningest:\n  auto_start: true\nretain:\n  finished_ttl: 1h\n",
		store, filepath.Join(dir, "state"), mqttURL, store, natsURL, a.http)
	path := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	a.proc = &proc{name: "agent " + store, bin: bin, args: []string{"-config", path, "run"}, logPath: filepath.Join(dir, "agent.log")}
	return a
}

// status reads the agent's /status.
func (a *agentProc) status() (agentapp.Status, error) {
	var st agentapp.Status
	c := http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://" + a.http + "/status")
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func newRelay(t *testing.T, bin, dir, name, natsURL string) *proc {
	t.Helper()
	cfg := fmt.Sprintf(`nats: {url: %q}
data_dir: %q
http: {listen: "127.0.0.1:0"}
stream: {replicas: 3, duplicate_window: 30m, max_age: 2h}
consumer: {ack_wait: 5s, max_deliver: 50, backoff: [100ms, 500ms, 1s]}
relay: {channel_timeout: 2s, workers: 16, channel_workers: 16, connections: 2, outbox_duplicate: 30m}
demo: {auto_assign: true, riders: 20}
limits: {tiers: {standard: {per_minute: 0}}}
log_level: info
auth: {insecure_dev: true}
`, natsURL, dir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "cloud.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return &proc{name: name, bin: bin, args: []string{"run", "-config", path}, ready: "passline-cloud serving", logPath: filepath.Join(dir, "cloud.log")}
}

// cluster is a 3-node JetStream cluster in this process. Nodes do not
// advertise their peers to clients, so a client stays on the URLs it was
// given (a cut uplink stays cut).
type cluster struct {
	opts    []*server.Options
	mu      sync.Mutex
	servers []*server.Server
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{}
	var routes []*url.URL
	dir := t.TempDir()
	ports := make([][2]int, 3)
	for i := range 3 {
		ports[i] = [2]int{freePort(t), freePort(t)}
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: fmt.Sprintf("127.0.0.1:%d", ports[i][1])})
	}
	for i := range 3 {
		c.opts = append(c.opts, &server.Options{
			ServerName: fmt.Sprintf("n%d", i+1), Host: "127.0.0.1", Port: ports[i][0], JetStream: true,
			StoreDir: filepath.Join(dir, fmt.Sprint(i)), NoSigs: true, NoLog: true,
			Cluster: server.ClusterOpts{Name: "chaos", Host: "127.0.0.1", Port: ports[i][1], NoAdvertise: true},
			Routes:  routes,
		})
	}
	c.servers = make([]*server.Server, 3)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range 3 {
		wg.Go(func() { errs[i] = c.start(i) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for i := range 3 {
			c.stop(i)
		}
	})
	return c
}

func (c *cluster) start(i int) error {
	s, err := server.NewServer(c.opts[i].Clone())
	if err != nil {
		return fmt.Errorf("node %d: %w", i+1, err)
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return fmt.Errorf("node %d not ready in 30s", i+1)
	}
	c.mu.Lock()
	c.servers[i] = s
	c.mu.Unlock()
	return nil
}

func (c *cluster) stop(i int) {
	c.mu.Lock()
	s := c.servers[i]
	c.servers[i] = nil
	c.mu.Unlock()
	if s != nil {
		s.Shutdown()
		s.WaitForShutdown()
	}
}

// healthy reports whether every node is up and its JetStream current.
func (c *cluster) healthy() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.servers {
		if s == nil || !s.JetStreamIsCurrent() {
			return false
		}
	}
	return true
}

func (c *cluster) nodeURL(i int) string { return fmt.Sprintf("nats://127.0.0.1:%d", c.opts[i].Port) }

func (c *cluster) url() string {
	return strings.Join([]string{c.nodeURL(0), c.nodeURL(1), c.nodeURL(2)}, ",")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func freeAddr(t *testing.T) string { return fmt.Sprintf("127.0.0.1:%d", freePort(t)) }
