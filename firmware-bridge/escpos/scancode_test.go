package escpos_test

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/passline/passline/firmware-bridge/escpos"
	"github.com/passline/passline/wire"
)

// waitPrinted waits until the printer has n bytes.
func waitPrinted(t *testing.T, p *fakePrinter, n int) []byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(p.received()) < n && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	return p.received()
}

// TestProxyPrintsScanCodeBeforeCut: with scan_code on, the printer gets
// the POS's job byte for byte plus, just before the ticket's paper cut, the
// commands of a code holding the order id (QR, or Code128 for printers
// without QR); the ticket event names the same order. The template's own
// QR (a platform URL) and barcode are left as they are. A pattern's
// scan_code picks the kind or turns it off; the printer's off is off.
func TestProxyPrintsScanCodeBeforeCut(t *testing.T) {
	job := readTestdata(t, "english.bin") // ends with ESC d 3, GS V 66 0, DLE EOT 1
	for _, tc := range []struct {
		name     string
		code     escpos.ScanCode
		override string
		want     bool
	}{
		{"qr", escpos.ScanQR, "", true},
		{"code128", escpos.ScanCode128, "", true},
		{"pattern picks the kind", escpos.ScanCode128, "qr", true},
		{"printer off is off for every pattern", escpos.ScanOff, "qr", false},
		{"pattern turns it off", escpos.ScanQR, "off", false},
		{"off", escpos.ScanOff, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			printer := startPrinter(t, 0)
			proxy, rec := startProxy(t, printer.addr, "cp437")
			pats := slices.Clone(testPatterns)
			pats[1].ScanCode = tc.override
			x, err := escpos.NewExtractor(pats)
			if err != nil {
				t.Fatal(err)
			}
			proxy.Extractor, proxy.ScanCode = x, tc.code
			printJob(t, proxy.Addr().String(), job, 1)
			ev := rec.WaitKind(t, wire.EventTicket, 1, 10*time.Second)[0]
			code := tc.code
			if tc.override != "" && tc.code != escpos.ScanOff {
				code = escpos.ScanCode(tc.override)
			}
			block := code.Commands(ev.Ticket.OrderID)
			got := waitPrinted(t, printer, len(job)+len(block))
			if !tc.want {
				if !bytes.Equal(got, job) || proxy.Stats().Codes != 0 {
					t.Fatalf("printer got %d bytes (%d codes), want the job's %d unchanged", len(got), proxy.Stats().Codes, len(job))
				}
				return
			}
			codes := escpos.ScannableCodes(got)
			if len(codes) == 0 || codes[len(codes)-1] != "UE-10442" || ev.Ticket.OrderID != "UE-10442" {
				t.Fatalf("codes on the ticket %q, ticket order %q; want the last to be UE-10442", codes, ev.Ticket.OrderID)
			}
			cut := bytes.LastIndex(job, []byte{0x1d, 'V'})
			if i := bytes.Index(got, block); i != cut {
				t.Fatalf("code commands at byte %d, want right before the cut at %d", i, cut)
			}
			if rest := bytes.Replace(got, block, nil, 1); !bytes.Equal(rest, job) {
				t.Fatal("without the code commands the printed bytes differ from the POS's job")
			}
			if proxy.Stats().Codes != 1 {
				t.Fatalf("codes counted %d", proxy.Stats().Codes)
			}
		})
	}
}

// TestWriteCutsAcrossSplits: wherever a job is split between two writes,
// the cuts WriteCuts reports point at the same bytes of the stream as for
// the whole job, and the held-back bytes are exactly an incomplete command.
func TestWriteCutsAcrossSplits(t *testing.T) {
	job := append(readTestdata(t, "english.bin"), readTestdata(t, "chinese_gb18030.bin")...)
	whole, held := escpos.NewDecoder(mustCodePage(t, "cp437")).WriteCuts(job)
	if len(whole) != 2 || held != 0 {
		t.Fatalf("whole job: %d cuts, %d held", len(whole), held)
	}
	for i := range len(job) + 1 {
		d := escpos.NewDecoder(mustCodePage(t, "cp437"))
		var at []int
		first, held := d.WriteCuts(job[:i])
		for _, c := range first {
			at = append(at, c.At)
		}
		base := i - held // the second call's offsets count from the held bytes
		second, rest := d.WriteCuts(job[i:])
		for _, c := range second {
			at = append(at, base+c.At)
		}
		if rest != 0 || len(at) != 2 || at[0] != whole[0].At || at[1] != whole[1].At {
			t.Fatalf("split at %d: cuts at %v (held %d, then %d), want %d and %d", i, at, held, rest, whole[0].At, whole[1].At)
		}
		if held > 0 && job[i-held] != 0x1b && job[i-held] != 0x1d && job[i-held] != 0x1c && job[i-held] != 0x10 {
			t.Fatalf("split at %d: held %d bytes that do not start a command", i, held)
		}
	}
}

// FuzzWriteCuts: for any stream split anywhere, the cuts point at the same
// bytes as for the whole stream, each at a cut command (GS V, ESC i, ESC
// m), and what is held back is never more than the bytes given.
func FuzzWriteCuts(f *testing.F) {
	f.Add(readTestdata(f, "english.bin"), uint16(330))
	f.Add([]byte("a\x1dV\x00b\x1dVB\x03c\x1bi"), uint16(2))
	f.Fuzz(func(t *testing.T, b []byte, split uint16) {
		cp := mustCodePage(t, "cp437")
		whole, _ := escpos.NewDecoder(cp).WriteCuts(b)
		i := int(split) % (len(b) + 1)
		d := escpos.NewDecoder(cp)
		first, held := d.WriteCuts(b[:i])
		if held > i {
			t.Fatalf("held %d of %d bytes", held, i)
		}
		second, _ := d.WriteCuts(b[i:])
		var at []int
		for _, c := range first {
			at = append(at, c.At)
		}
		for _, c := range second {
			at = append(at, i-held+c.At)
		}
		if len(at) != len(whole) {
			t.Fatalf("split at %d: %d cuts, whole %d", i, len(at), len(whole))
		}
		for k, c := range whole {
			if at[k] != c.At {
				t.Fatalf("split at %d: cut %d at %d, whole at %d", i, k, at[k], c.At)
			}
			if cmd := b[c.At : c.At+2]; !bytes.Equal(cmd, []byte{0x1d, 'V'}) && !bytes.Equal(cmd, []byte{0x1b, 'i'}) && !bytes.Equal(cmd, []byte{0x1b, 'm'}) {
				t.Fatalf("cut %d at %d starts with % x", k, c.At, cmd)
			}
		}
	})
}
