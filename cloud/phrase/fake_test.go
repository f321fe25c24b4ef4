package phrase_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// answer is what the fake model server does with one request.
type answer struct {
	status  int           // 0 means 200
	content string        // message content of a well-formed answer
	raw     string        // when set, the body as is (malformed JSON, ...)
	delay   time.Duration // wait before answering (or until the client leaves)
}

// modelServer is a fake OpenAI-compatible chat-completions endpoint. It
// counts TCP connections and requests, checks the request shape, and
// answers with script.
type modelServer struct {
	t        testing.TB
	URL      string
	conns    atomic.Int32
	requests atomic.Int32
	release  chan struct{}

	mu     sync.Mutex
	script func(system, user string) answer
}

type countingListener struct {
	net.Listener
	n *atomic.Int32
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func newModelServer(t testing.TB, script func(system, user string) answer) *modelServer {
	t.Helper()
	m := &modelServer{t: t, script: script, release: make(chan struct{})}
	srv := httptest.NewUnstartedServer(m)
	srv.Listener = countingListener{srv.Listener, &m.conns}
	srv.Start()
	m.URL = srv.URL + "/v1"
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(m.release) }) // runs first: frees hanging handlers
	return m
}

func (m *modelServer) setScript(s func(system, user string) answer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.script = s
}

func (m *modelServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.requests.Add(1)
	body, _ := io.ReadAll(r.Body)
	var req struct {
		Model    string `json:"model"`
		Messages []struct{ Role, Content string }
	}
	if r.URL.Path != "/v1/chat/completions" || r.Header.Get("Authorization") != "Bearer sk-test" ||
		json.Unmarshal(body, &req) != nil || req.Model != "glm-test" || len(req.Messages) != 2 {
		m.t.Errorf("model server: bad request %s %q %s", r.URL.Path, r.Header.Get("Authorization"), body)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	m.mu.Lock()
	a := m.script(req.Messages[0].Content, req.Messages[1].Content)
	m.mu.Unlock()
	if a.delay > 0 {
		select {
		case <-time.After(a.delay):
		case <-r.Context().Done():
			return
		case <-m.release:
			return
		}
	}
	if a.status != 0 {
		w.WriteHeader(a.status)
	}
	if a.raw != "" {
		_, _ = io.WriteString(w, a.raw)
		return
	}
	out, _ := json.Marshal(map[string]any{"id": "chatcmpl-1", "object": "chat.completion",
		"choices": []any{map[string]any{"index": 0, "message": map[string]string{"role": "assistant", "content": a.content}, "finish_reason": "stop"}}})
	_, _ = w.Write(out)
}

// says answers content to every request.
func says(content string) func(string, string) answer {
	return func(string, string) answer { return answer{content: content} }
}

// metric returns the value of the counter (or histogram count) name with
// the given label value ("" for unlabelled), 0 when absent.
func metric(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var values []string
			for _, l := range m.GetLabel() {
				values = append(values, l.GetValue())
			}
			if strings.Join(values, ",") != label {
				continue
			}
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			}
		}
	}
	return 0
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
