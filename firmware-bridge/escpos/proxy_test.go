package escpos_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/passline/passline/firmware-bridge/bridgetest"
	"github.com/passline/passline/firmware-bridge/escpos"
	"github.com/passline/passline/wire"
)

// fakePrinter is a TCP printer: it keeps every byte it receives and
// answers each DLE EOT 1 status request with status.
type fakePrinter struct {
	addr   string
	status byte
	// closeAfter, when > 0, makes the printer hang up after that many bytes.
	closeAfter int

	mu   sync.Mutex
	got  bytes.Buffer
	jobs int
}

func startPrinter(tb testing.TB, closeAfter int) *fakePrinter {
	tb.Helper()
	p := &fakePrinter{status: 0x16, closeAfter: closeAfter}
	p.addr = bridgetest.Printer(tb, p.job)
	return p
}

func (p *fakePrinter) job(c net.Conn) {
	defer c.Close()
	p.mu.Lock()
	p.jobs++
	p.mu.Unlock()
	buf := make([]byte, 4096)
	var last []byte
	total := 0
	for {
		n, err := c.Read(buf)
		p.mu.Lock()
		p.got.Write(buf[:n])
		closeAfter := p.closeAfter
		p.mu.Unlock()
		total += n
		last = append(last, buf[:n]...)
		for {
			i := bytes.Index(last, []byte{0x10, 0x04, 0x01})
			if i < 0 {
				break
			}
			_, _ = c.Write([]byte{p.status})
			last = last[i+3:]
		}
		if len(last) > 2 {
			last = last[len(last)-2:]
		}
		if err != nil || (closeAfter > 0 && total >= closeAfter) {
			return
		}
	}
}

func (p *fakePrinter) received() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]byte(nil), p.got.Bytes()...)
}

func startProxy(tb testing.TB, printer string, page string) (*escpos.Proxy, *bridgetest.Recorder) {
	tb.Helper()
	rec := &bridgetest.Recorder{}
	p := &escpos.Proxy{
		Listen: "127.0.0.1:0", Printer: printer, DialTimeout: 2 * time.Second, IdleTimeout: 5 * time.Second,
		Linger: time.Second, CodePage: mustCodePage(tb, page), Extractor: mustExtractor(tb),
		Pub: rec, Store: "s1", DeviceID: "printer-1",
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})),
	}
	if err := p.Start(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close() })
	return p, rec
}

// printJob plays the POS: send the job, read the printer's status answer,
// hang up. It returns what the POS received.
func printJob(tb testing.TB, addr string, job []byte, wantStatus int) []byte {
	tb.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(job); err != nil {
		tb.Fatal(err)
	}
	got := make([]byte, wantStatus)
	if _, err := io.ReadFull(c, got); err != nil {
		tb.Fatalf("POS reading status: %v", err)
	}
	return got
}

func TestProxyEnglishAndChineseTickets(t *testing.T) {
	for _, tc := range []struct {
		file, page, orderID string
		items               int
		firstSKU            string
	}{
		{"english.bin", "cp437", "UE-10442", 3, "Cheeseburger"},
		{"chinese_gb18030.bin", "gb18030", "MT2026-88123", 3, "KP01"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			printer := startPrinter(t, 0)
			proxy, rec := startProxy(t, printer.addr, tc.page)
			job := readTestdata(t, tc.file)
			job = append(job, 0x10, 0x04, 0x01) // the POS asks for status after the job
			status := printJob(t, proxy.Addr().String(), job, 1)
			if status[0] != 0x16 {
				t.Fatalf("POS got status %x, want the printer's 16", status)
			}
			evs := rec.WaitKind(t, wire.EventTicket, 1, 10*time.Second)
			deadline := time.Now().Add(5 * time.Second)
			for !bytes.Equal(printer.received(), job) && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if got := printer.received(); !bytes.Equal(got, job) {
				t.Fatalf("printer received %d bytes, POS sent %d; not identical", len(got), len(job))
			}
			tk := evs[0].Ticket
			if tk.OrderID != tc.orderID || len(tk.Items) != tc.items || tk.Items[0].SKU != tc.firstSKU {
				t.Fatalf("ticket %+v", tk)
			}
			if st := rec.Kind(wire.EventStatus); len(st) != 1 || !st[0].Status.Online {
				t.Fatalf("printer status events %+v", st)
			}
		})
	}
}

// A ticket no pattern reads, and plain garbage, still print byte for byte
// and are published as unparsed tickets with their text.
func TestProxyUnparsedAndGarbage(t *testing.T) {
	printer := startPrinter(t, 0)
	proxy, rec := startProxy(t, printer.addr, "cp437")
	garbage := []byte("Table 5, no order number\n\x1b\x1d\x1c\xff\xfe\x00\x1b*\x21")
	job := append(append([]byte{}, garbage...), 0x10, 0x04, 0x01)
	printJob(t, proxy.Addr().String(), job, 1)
	evs := rec.WaitKind(t, wire.EventUnparsed, 1, 10*time.Second)
	if !bytes.Contains([]byte(evs[0].Ticket.Raw), []byte("Table 5, no order number")) {
		t.Fatalf("raw %q", evs[0].Ticket.Raw)
	}
	if got := printer.received(); !bytes.Equal(got, job) {
		t.Fatalf("printer got %q want %q", got, job)
	}
	if s := proxy.Stats(); s.Unparsed != 1 || s.Parsed != 0 {
		t.Fatalf("stats %+v", s)
	}
}

// With the printer off, the POS's connection fails (as it would with the
// printer itself), the printer is reported offline, and the proxy keeps
// serving: once the printer is back, jobs go through.
func TestProxyPrinterOffThenBack(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	proxy, rec := startProxy(t, addr, "cp437")
	// The reset may even beat the POS's connect call; either way it fails.
	if c, err := net.Dial("tcp", proxy.Addr().String()); err == nil {
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = c.Write([]byte("Order No: A1\n"))
		if _, err := c.Read(make([]byte, 1)); err == nil || isTimeout(err) {
			t.Fatalf("POS read with the printer off: %v", err)
		}
		c.Close()
	}
	st := rec.WaitKind(t, wire.EventStatus, 1, 5*time.Second)
	if st[0].Status.Online {
		t.Fatalf("printer reported online: %+v", st[0].Status)
	}

	// The printer comes back on the same address.
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("cannot rebind %s: %v", addr, err)
	}
	printer := &fakePrinter{addr: addr, status: 0x12}
	bridgetest.Serve(t, ln2, printer.job)
	printJob(t, proxy.Addr().String(), []byte("Order No: B2\n\x1dV\x00\x10\x04\x01"), 1)
	if tk := rec.WaitKind(t, wire.EventTicket, 1, 10*time.Second)[0].Ticket; tk.OrderID != "B2" {
		t.Fatalf("ticket %+v", tk)
	}
	if st := rec.Kind(wire.EventStatus); len(st) != 2 || !st[1].Status.Online {
		t.Fatalf("statuses %+v", st)
	}
}

// A printer that hangs up mid-job: the POS sees the connection close, what
// was decoded is still published, and the next job works.
func TestProxyPrinterClosesMidJob(t *testing.T) {
	printer := startPrinter(t, 20)
	proxy, rec := startProxy(t, printer.addr, "cp437")
	c, err := net.Dial("tcp", proxy.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = c.Write([]byte("Order No: C3\n1 x Tea  2.00\n"))
	if _, err := io.ReadAll(c); isTimeout(err) {
		t.Fatalf("POS read: %v", err)
	}
	c.Close()
	rec.WaitKind(t, wire.EventTicket, 1, 10*time.Second)
	printer.mu.Lock()
	printer.closeAfter = 0
	printer.mu.Unlock()
	printJob(t, proxy.Addr().String(), []byte("Order No: D4\n\x1dV\x00\x10\x04\x01"), 1)
	rec.WaitKind(t, wire.EventTicket, 2, 10*time.Second)
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
