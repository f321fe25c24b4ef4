package escpos

import (
	"bytes"
	"fmt"
)

// ScanCode is the scannable code the print proxy adds to a ticket it could
// read, just before the paper cut, encoding the ticket's order id: scanned
// at packing (firmware-bridge evdev.Scanner), it reports the order ready.
type ScanCode string

// Scannable codes. QR is ESC/POS GS ( k (model 2, error correction M),
// which most thermal printers of the last decade print; Code128 (GS k 73)
// is for printers that only print 1D barcodes.
const (
	ScanOff     ScanCode = "off"
	ScanQR      ScanCode = "qr"
	ScanCode128 ScanCode = "code128"
)

// ParseScanCode reads a scan_code setting; "" is off.
func ParseScanCode(s string) (ScanCode, error) {
	switch c := ScanCode(s); c {
	case "":
		return ScanOff, nil
	case ScanOff, ScanQR, ScanCode128:
		return c, nil
	}
	return "", fmt.Errorf("%q is not off, qr or code128", s)
}

// maxQR is the most bytes a QR code of error correction M holds (version
// 40, byte mode).
const maxQR = 2331

// maxCode128 is the most data GS k 73 takes: its length byte counts the
// two code-set bytes too.
const maxCode128 = 255 - 2

// Commands returns the ESC/POS commands that print data as this code,
// centred on a line of its own, then feed 4 lines so the code clears the
// cutter (the head sits a few lines above it) before the ticket's own cut.
// They leave justification left (ESC a 0). Off, or data a code cannot
// hold, gives nil.
func (c ScanCode) Commands(data string) []byte {
	var b bytes.Buffer
	b.Write([]byte{lf, esc, 'a', 1})
	switch {
	case c == ScanQR && len(data) <= maxQR:
		n := len(data) + 3
		b.Write([]byte{gs, '(', 'k', 4, 0, '1', 'A', '2', 0}) // model 2
		b.Write([]byte{gs, '(', 'k', 3, 0, '1', 'C', 6})      // module 6 dots
		b.Write([]byte{gs, '(', 'k', 3, 0, '1', 'E', '1'})    // error correction M
		b.Write([]byte{gs, '(', 'k', byte(n), byte(n >> 8), '1', 'P', '0'})
		b.WriteString(data)
		b.Write([]byte{gs, '(', 'k', 3, 0, '1', 'Q', '0'}) // print
	case c == ScanCode128 && len(data) <= maxCode128:
		b.Write([]byte{gs, 'h', 80, gs, 'w', 2, gs, 'H', 2}) // 80 dots high, module 2, text below
		b.Write([]byte{gs, 'k', 73, byte(len(data) + 2), '{', 'B'})
		b.WriteString(data)
	default:
		return nil
	}
	b.Write([]byte{lf, esc, 'a', 0, esc, 'd', 4})
	return b.Bytes()
}

// ScannableCodes returns the data of every QR code (GS ( k store) and
// Code128 barcode (GS k 73) in an ESC/POS stream, in order: what a
// scanner would read off the printed tickets. It is for tests and tools.
func ScannableCodes(b []byte) []string {
	var out []string
	for i := 0; i+3 < len(b); i++ {
		if b[i] != gs {
			continue
		}
		switch {
		case b[i+1] == '(' && b[i+2] == 'k' && i+8 <= len(b) && b[i+5] == '1' && b[i+6] == 'P':
			end := i + 5 + le16(b[i+3], b[i+4])
			if end <= len(b) {
				out = append(out, string(b[i+8:end]))
			}
		case b[i+1] == 'k' && b[i+2] == 73 && i+6 <= len(b):
			end := i + 4 + int(b[i+3])
			if end <= len(b) && b[i+4] == '{' {
				out = append(out, string(b[i+6:end]))
			}
		}
	}
	return out
}
