package escpos

import (
	"context"
	"errors"
	"io"
	"net"
	"time"

	bridge "github.com/passline/passline/firmware-bridge"
	"github.com/passline/passline/wire"
)

// serve relays one POS connection to the printer and back.
func (p *Proxy) serve(ctx context.Context, pos net.Conn) {
	defer pos.Close()
	p.jobs.Add(1)
	d := net.Dialer{Timeout: p.DialTimeout}
	printer, err := d.DialContext(ctx, "tcp", p.Printer)
	if err != nil {
		p.Logger.Warn("printer unreachable; resetting the POS connection", "printer", p.Printer, "err", err)
		p.setHealth(false, "unreachable: "+err.Error())
		if tc, ok := pos.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST: the POS sees a failed print, as with the printer itself
		}
		return
	}
	p.setHealth(true, "")
	p.track(printer, true)
	defer p.track(printer, false)
	defer printer.Close()

	back := make(chan struct{})
	go func() { // printer → POS: status bytes, unchanged
		defer close(back)
		_, _ = io.Copy(pos, printer)
		_ = pos.Close() // the printer hung up: so does the POS's connection
	}()

	dec := NewDecoder(p.CodePage)
	p.forward(pos, printer, dec)
	if text := dec.Flush(); text != "" {
		p.enqueue(printed{text: text, at: p.now()})
	}
	if tc, ok := printer.(*net.TCPConn); ok {
		_ = tc.CloseWrite() // the job is complete; let the printer's last answer through
	}
	select {
	case <-back:
	case <-time.After(p.Linger):
	case <-ctx.Done():
	}
	_ = printer.Close()
	<-back
}

// forward copies the POS's bytes to the printer, decoding on the way,
// until the POS finishes, goes idle, or the printer stops taking bytes.
// An incomplete command at the end of a read is held back until the next
// read completes it, so a code can still go in before a cut split across
// reads; what is held when the POS finishes is sent then.
func (p *Proxy) forward(pos, printer net.Conn, dec *Decoder) {
	buf := make([]byte, 32<<10)
	var held []byte
	for {
		_ = pos.SetReadDeadline(time.Now().Add(p.IdleTimeout))
		n, err := pos.Read(buf)
		if n > 0 {
			p.bytes.Add(int64(n))
			var werr error
			if held, werr = p.relay(printer, dec, held, buf[:n]); werr != nil {
				p.Logger.Warn("printer closed the connection mid-job", "err", werr)
				p.setHealth(false, "closed mid-job")
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				p.Logger.Debug("POS connection ended", "err", err)
			}
			if len(held) > 0 {
				_, _ = printer.Write(held)
			}
			return
		}
	}
}

// relay decodes one read and writes it to the printer after the bytes
// held from the last one, with a ticket's scannable code put before its
// cut; it returns the bytes to hold for the next read.
func (p *Proxy) relay(printer net.Conn, dec *Decoder, held, in []byte) ([]byte, error) {
	data := append(held, in...)
	cuts, keep := dec.WriteCuts(in)
	out := make([]byte, 0, len(data)+len(cuts)*64)
	from := 0
	for _, c := range cuts {
		t := printed{text: c.Text, at: p.now()}
		out = append(out, data[from:c.At]...)
		out = append(out, p.code(&t)...)
		from = c.At
		p.enqueue(t)
	}
	out = append(out, data[from:len(data)-keep]...)
	if _, err := printer.Write(out); err != nil {
		return nil, err
	}
	return append([]byte(nil), data[len(data)-keep:]...), nil
}

// code reads the ticket (keeping what it read in t) and returns the
// commands of its scannable code, or nil when the ticket gets none.
func (p *Proxy) code(t *printed) []byte {
	if p.ScanCode == "" || p.ScanCode == ScanOff || p.Extractor == nil {
		return nil
	}
	ticket, pat, ok := p.Extractor.Read(t.text, t.at)
	if !ok {
		return nil
	}
	t.ticket = &ticket
	sc := p.ScanCode
	if pat.ScanCode != "" {
		sc = ScanCode(pat.ScanCode)
	}
	b := sc.Commands(ticket.OrderID)
	if b != nil {
		p.codes.Add(1)
	}
	return b
}

func (p *Proxy) setHealth(online bool, detail string) {
	if err := p.health.Set(online, detail); err != nil {
		p.Logger.Warn("publish printer status", "err", err)
	}
}

// enqueue hands a ticket to the publisher without ever blocking printing.
func (p *Proxy) enqueue(t printed) {
	select {
	case p.queue <- t:
	default:
		p.dropped.Add(1)
		p.Logger.Warn("ticket queue full; ticket not published (it was printed)")
	}
}

func (p *Proxy) publishLoop() {
	for t := range p.queue {
		ev := p.event(t)
		if err := p.Pub.Publish(wire.DevicePrinter, ev); err != nil {
			p.Logger.Warn("publish ticket", "kind", ev.Kind, "err", err)
		}
	}
}

// event reads a ticket: a ticket event when a pattern finds its order id,
// else an unparsed-ticket event carrying the raw text.
func (p *Proxy) event(t printed) wire.Event {
	ev := wire.Event{ID: bridge.NewEventID(p.DeviceID, t.at), Store: p.Store, DeviceID: p.DeviceID, At: t.at}
	if t.ticket == nil && p.Extractor != nil {
		if ticket, ok := p.Extractor.Extract(t.text, t.at); ok {
			t.ticket = &ticket
		}
	}
	if t.ticket != nil {
		ev.Kind, ev.Ticket = wire.EventTicket, t.ticket
		if _, err := ev.Marshal(); err == nil {
			p.parsed.Add(1)
			return ev
		}
	}
	p.unparsed.Add(1)
	ev.Kind, ev.Ticket = wire.EventUnparsed, &wire.Ticket{Raw: clipRaw(t.text)}
	return ev
}
