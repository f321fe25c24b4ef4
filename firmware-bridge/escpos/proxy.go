package escpos

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	bridge "github.com/passline/passline/firmware-bridge"
	"github.com/passline/passline/wire"
)

// Proxy sits between the POS and the ticket printer. Every byte the POS
// sends goes to the printer unchanged and every byte the printer answers
// (status) goes back unchanged, with one addition when ScanCode is on: a
// scannable code of the order id, just before the paper cut of each
// ticket a pattern reads (see ScanCode.Commands). When the printer cannot be reached the
// POS's connection is reset, so the POS sees the printer's failure. On the
// way, tickets are decoded and published: a ticket event when a pattern
// reads it, an unparsed-ticket event with the raw text when none does.
// Publishing never delays printing: tickets wait in a bounded queue and
// are dropped (and counted) when it is full.
type Proxy struct {
	Listen      string // e.g. ":9100"
	Printer     string // host:port of the real printer
	DialTimeout time.Duration
	IdleTimeout time.Duration // a POS silent this long is disconnected
	// Linger is how long the printer may still answer after the POS has
	// finished sending; 0 means 2 s.
	Linger    time.Duration
	CodePage  CodePage
	Extractor *Extractor
	// ScanCode is the code printed on readable tickets; "" or ScanOff
	// prints none on any. When it is on, a pattern's own scan_code may
	// pick the other kind or turn it off for that template.
	ScanCode ScanCode
	Pub      bridge.Publisher
	Store    string
	DeviceID string
	Logger   *slog.Logger
	Now      func() time.Time // nil means time.Now

	ln         net.Listener
	health     *bridge.Health
	queue      chan printed
	accepting  bridge.Loop    // the accept loop; its context ends every POS connection
	conns      sync.WaitGroup // one per POS connection
	publishing bridge.Loop    // the publish loop
	mu         sync.Mutex
	open       map[net.Conn]struct{}

	parsed, unparsed, dropped, jobs, bytes, codes atomic.Int64
}

type printed struct {
	text   string
	at     time.Time
	ticket *wire.Ticket // read already (to print its code), or nil
}

// Stats are the proxy's counters.
type Stats struct {
	Jobs, Parsed, Unparsed, Dropped int64
	Bytes                           int64 // from the POS, forwarded to the printer
	Codes                           int64 // scannable codes added to tickets
}

// Stats returns the counters: POS connections served, tickets published
// parsed and unparsed, tickets dropped because the queue was full, and
// scannable codes printed.
func (p *Proxy) Stats() Stats {
	return Stats{Jobs: p.jobs.Load(), Parsed: p.parsed.Load(), Unparsed: p.unparsed.Load(), Dropped: p.dropped.Load(),
		Bytes: p.bytes.Load(), Codes: p.codes.Load()}
}

// Addr is the address the proxy listens on (after Start).
func (p *Proxy) Addr() net.Addr { return p.ln.Addr() }

var _ bridge.Driver = (*Proxy)(nil)

// Start listens and serves POS connections until Close.
func (p *Proxy) Start(ctx context.Context) error {
	if p.Logger == nil {
		p.Logger = slog.Default()
	}
	if p.Linger <= 0 {
		p.Linger = 2 * time.Second
	}
	if p.CodePage.Encoding == nil {
		p.CodePage = codePages["cp437"]
	}
	ln, err := net.Listen("tcp", p.Listen)
	if err != nil {
		return fmt.Errorf("print proxy listen %s: %w", p.Listen, err)
	}
	p.ln = ln
	p.health = &bridge.Health{Pub: p.Pub, Device: wire.DevicePrinter, Store: p.Store, DeviceID: p.DeviceID, Now: p.Now}
	p.queue = make(chan printed, 64)
	p.open = map[net.Conn]struct{}{}
	p.accepting.Go(ctx, p.accept)
	p.publishing.Go(ctx, func(context.Context) { p.publishLoop() }) // ends when Close closes the queue
	p.Logger.Info("print proxy listening", "addr", ln.Addr().String(), "printer", p.Printer)
	return nil
}

// Close stops accepting, cuts open connections, publishes the tickets
// already queued, and returns.
func (p *Proxy) Close() error {
	if p.ln == nil {
		return nil
	}
	var err error
	p.accepting.Stop(func() { err = p.ln.Close() }) // no connection is added after this
	p.mu.Lock()
	for c := range p.open {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.conns.Wait()
	p.publishing.Stop(func() { close(p.queue) }) // no session is left to enqueue
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

func (p *Proxy) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// Alive is nil while the proxy accepts POS connections and publishes
// tickets (bridge.Loop.Alive).
func (p *Proxy) Alive() error {
	return errors.Join(p.accepting.Alive(), p.publishing.Alive())
}

func (p *Proxy) accept(ctx context.Context) {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			p.Logger.Warn("print proxy accept", "err", err)
			time.Sleep(100 * time.Millisecond)
			continue
		}
		p.track(c, true)
		p.conns.Add(1)
		go func() {
			defer p.conns.Done()
			defer p.track(c, false)
			p.serve(ctx, c)
		}()
	}
}

func (p *Proxy) track(c net.Conn, add bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if add {
		p.open[c] = struct{}{}
	} else {
		delete(p.open, c)
	}
}
