package escpos_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	bridge "github.com/passline/passline/firmware-bridge"
	"github.com/passline/passline/firmware-bridge/bridgetest"
	"github.com/passline/passline/firmware-bridge/escpos"
	"github.com/passline/passline/wire"
)

// benchPrinter discards what it receives and answers each DLE EOT 1 with
// one status byte, like a real printer's status reply.
func benchPrinter(b *testing.B) string {
	return bridgetest.Printer(b, func(c net.Conn) {
		buf := make([]byte, 64<<10)
		var tail []byte
		for {
			n, err := c.Read(buf)
			chunk := append(tail, buf[:n]...)
			for k := bytes.Count(chunk, []byte{0x10, 0x04, 0x01}); k > 0; k-- {
				_, _ = c.Write([]byte{0x16})
			}
			if len(chunk) >= 2 {
				tail = append(tail[:0], chunk[len(chunk)-2:]...)
			}
			if err != nil {
				return
			}
		}
	})
}

// roundTrip prints one job on a new connection and waits for the status.
func roundTrip(b *testing.B, addr string, job []byte) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(job); err != nil {
		b.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		b.Fatal(err)
	}
}

// stream sends size bytes of tickets on one connection, then waits for
// the status reply that proves the printer has them all.
func stream(b *testing.B, addr string, block []byte, size int) time.Duration {
	start := time.Now()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	for sent := 0; sent < size; sent += len(block) {
		if _, err := c.Write(block); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := c.Write([]byte{0x10, 0x04, 0x01}); err != nil {
		b.Fatal(err)
	}
	if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// BenchmarkProxy measures, in one run, a ticket's round trip (connect,
// send the English test ticket, get the status byte) directly to the
// printer and through the proxy, and the throughput of a 4 MB stream of
// tickets both ways. Reported: direct-us/ticket, proxy-us/ticket,
// added-us/ticket, direct-MB/s, proxy-MB/s.
func BenchmarkProxy(b *testing.B) {
	printer := benchPrinter(b)
	p := &escpos.Proxy{
		Listen: "127.0.0.1:0", Printer: printer, DialTimeout: 2 * time.Second, IdleTimeout: 10 * time.Second,
		Linger: time.Second, CodePage: mustCodePage(b, "cp437"), Extractor: mustExtractor(b),
		Pub:   bridge.PublisherFunc(func(wire.Device, wire.Event) error { return nil }),
		Store: "s1", DeviceID: "printer-1", Logger: slog.New(slog.DiscardHandler),
	}
	if err := p.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	proxy := p.Addr().String()
	ticket := readTestdata(b, "english.bin") // ends with DLE EOT 1

	var direct, proxied time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		roundTrip(b, printer, ticket)
		t1 := time.Now()
		roundTrip(b, proxy, ticket)
		direct += t1.Sub(t0)
		proxied += time.Since(t1)
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N) }
	b.ReportMetric(per(direct), "direct-us/ticket")
	b.ReportMetric(per(proxied), "proxy-us/ticket")
	b.ReportMetric(per(proxied-direct), "added-us/ticket")

	block := bytes.Repeat(ticket[:len(ticket)-3], 200) // ~70 KB of tickets without status requests
	const size = 4 << 20
	mbps := func(d time.Duration) float64 { return float64(size) / d.Seconds() / 1e6 }
	b.ReportMetric(mbps(stream(b, printer, block, size)), "direct-MB/s")
	b.ReportMetric(mbps(stream(b, proxy, block, size)), "proxy-MB/s")
	if s := p.Stats(); s.Parsed == 0 {
		b.Fatalf("proxy parsed no ticket: %+v", s)
	}
}
