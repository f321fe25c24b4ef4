package chaos_test

import (
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"testing"

	agentmqtt "github.com/passline/passline/agent/mqtt"
	"github.com/passline/passline/internal/freeport"
)

// broker is the stores' MQTT broker in this process, with sessions and
// in-flight messages persisted so a restart loses no QoS 1 message.
type broker struct {
	addr, persist string
	mu            sync.Mutex
	b             *agentmqtt.Broker
}

func startBroker(t *testing.T) *broker {
	t.Helper()
	br := &broker{addr: freeport.Addr(t), persist: filepath.Join(t.TempDir(), "broker.db")}
	if err := br.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(br.stop)
	return br
}

func (br *broker) start() error {
	b := &agentmqtt.Broker{Listen: br.addr, Persist: br.persist, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := b.Run(); err != nil {
		return err
	}
	br.mu.Lock()
	br.b = b
	br.mu.Unlock()
	return nil
}

func (br *broker) stop() {
	br.mu.Lock()
	b := br.b
	br.b = nil
	br.mu.Unlock()
	if b != nil {
		_ = b.Close()
	}
}

func (br *broker) url() string { return "tcp://" + br.addr }

// proxy forwards TCP connections to target; cut closes every connection
// and refuses new ones (accepted and closed at once) until restore.
type proxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	cutOff bool
	conns  map[net.Conn]struct{}
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target, conns: map[net.Conn]struct{}{}}
	go p.serve()
	t.Cleanup(func() { l.Close(); p.cut() })
	return p
}

func (p *proxy) addr() string { return p.l.Addr().String() }

func (p *proxy) serve() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cutOff {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

func (p *proxy) pipe(dst, src net.Conn) {
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
	p.mu.Lock()
	delete(p.conns, dst)
	delete(p.conns, src)
	p.mu.Unlock()
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutOff = true
	for c := range p.conns {
		c.Close()
	}
}

func (p *proxy) restore() {
	p.mu.Lock()
	p.cutOff = false
	p.mu.Unlock()
}
