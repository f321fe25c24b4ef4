package escpos

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// Control bytes that start ESC/POS commands.
const (
	lf  = 0x0a
	ff  = 0x0c
	esc = 0x1b
	fs  = 0x1c
	gs  = 0x1d
	dle = 0x10
)

// maxText bounds the decoded text kept for one ticket; the rest of a
// runaway job is still forwarded to the printer, just not decoded.
const maxText = 64 << 10

// maxRun bounds undecoded text bytes; a longer line is decoded in pieces
// (a multibyte character cut at the boundary becomes U+FFFD).
const maxRun = 4 << 10

// Decoder turns an ESC/POS byte stream into ticket text: commands are
// stripped (with their arguments and image or barcode data), text is
// decoded from the printer's current code page, and a paper cut (GS V)
// ends a ticket. It accepts the stream in pieces of any size: a command
// split across writes is completed by the next write. A Decoder is not
// safe for concurrent use.
type Decoder struct {
	def      CodePage // page after ESC @
	single   CodePage // single-byte page (ESC t)
	multi    CodePage // page used in multibyte mode (FS &)
	inMulti  bool
	pending  []byte // an incomplete command header
	skip     int    // payload bytes still to drop
	untilNUL bool   // drop up to and including the next NUL
	run      []byte // text bytes not yet decoded, in the current page
	text     strings.Builder
}

// NewDecoder returns a decoder for a printer whose default code page is
// cp. A multibyte default (gb18030, ...) starts in multibyte mode, as
// Chinese printers do.
func NewDecoder(cp CodePage) *Decoder {
	d := &Decoder{def: cp}
	d.reset()
	return d
}

func (d *Decoder) reset() {
	d.flushRun()
	d.single, d.multi, d.inMulti = codePages["cp437"], codePages["gb18030"], false
	if d.def.Multibyte {
		d.multi, d.inMulti = d.def, true
	} else {
		d.single = d.def
	}
}

// Write consumes the next piece of the stream and returns the text of every
// ticket a paper cut completed in it.
func (d *Decoder) Write(p []byte) []string {
	cuts, _ := d.WriteCuts(p)
	var tickets []string
	for _, c := range cuts {
		tickets = append(tickets, c.Text)
	}
	return tickets
}

// Cut is a paper cut that ended a ticket holding text.
type Cut struct {
	Text string // the ticket's decoded text
	// At is where the cut command starts, as an offset into the bytes
	// held over from the previous WriteCuts followed by this one's p.
	At int
}

// WriteCuts consumes the next piece of the stream like Write and reports
// where each cut command that ended a ticket starts. held is how many
// bytes at the end of (held-over bytes + p) are an incomplete command the
// next write completes: a caller that forwards the stream and wants to put
// bytes before a cut (the print proxy) keeps those back until then.
func (d *Decoder) WriteCuts(p []byte) (cuts []Cut, held int) {
	b := p
	if len(d.pending) > 0 {
		b = append(d.pending, p...)
		d.pending = nil
	}
	for i := 0; i < len(b); {
		switch {
		case d.skip > 0:
			n := min(d.skip, len(b)-i)
			d.skip -= n
			i += n
		case d.untilNUL:
			j := bytes.IndexByte(b[i:], 0)
			if j < 0 {
				return cuts, 0
			}
			d.untilNUL = false
			i += j + 1
		case b[i] >= 0x20 && b[i] != 0x7f:
			d.run = append(d.run, b[i])
			i++
			if len(d.run) >= maxRun { // a line without end must not grow memory
				d.flushRun()
			}
		case b[i] == esc || b[i] == fs || b[i] == gs || b[i] == dle:
			n, cut, ok := d.command(b[i:])
			if !ok {
				d.pending = append([]byte(nil), b[i:]...)
				return cuts, len(b) - i
			}
			if cut {
				if t := d.Flush(); t != "" {
					cuts = append(cuts, Cut{Text: t, At: i})
				}
			}
			i += n
		default:
			d.control(b[i])
			i++
		}
	}
	return cuts, 0
}

// Flush ends the current ticket (the connection closed without a cut) and
// returns its text, or "" when it holds only blank lines.
func (d *Decoder) Flush() string {
	d.flushRun()
	t := d.text.String()
	d.text.Reset()
	if strings.TrimSpace(t) == "" {
		return ""
	}
	return t
}

func (d *Decoder) control(c byte) {
	switch c {
	case lf, ff:
		d.newline()
	case '\t':
		d.run = append(d.run, ' ')
	}
}

func (d *Decoder) newline() {
	d.flushRun()
	d.write("\n")
}

// flushRun decodes pending text bytes with the current page.
func (d *Decoder) flushRun() {
	if len(d.run) == 0 {
		return
	}
	if d.text.Len() >= maxText {
		d.run = d.run[:0]
		return
	}
	page := d.single
	if d.inMulti {
		page = d.multi
	}
	out, err := page.Encoding.NewDecoder().Bytes(d.run)
	if err != nil {
		out = bytes.ToValidUTF8(d.run, []byte("\uFFFD"))
	}
	d.run = d.run[:0]
	d.write(string(out))
}

func (d *Decoder) write(s string) {
	if d.text.Len()+len(s) > maxText {
		return
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	d.text.WriteString(s)
}

func (d *Decoder) setSingle(n byte) {
	if name, ok := escT[n]; ok {
		d.flushRun()
		d.single = codePages[name]
	}
}

func (d *Decoder) setMulti(on bool) {
	if d.inMulti != on {
		d.flushRun()
		d.inMulti = on
	}
}
