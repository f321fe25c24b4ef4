package scale

// Framer splits a scale's byte stream into lines: CR, LF or CRLF end a
// line; STX starts a new frame (Toledo). A line longer than maxLine is
// noise and is dropped, so a babbling port cannot grow memory.
type Framer struct {
	buf      []byte
	overflow bool
}

// Write consumes bytes and returns the complete lines in them (without
// terminators, empty lines skipped).
func (f *Framer) Write(p []byte) [][]byte {
	var lines [][]byte
	for _, c := range p {
		switch {
		case c == '\r' || c == '\n':
			if len(f.buf) > 0 && !f.overflow {
				lines = append(lines, append([]byte(nil), f.buf...))
			}
			f.buf, f.overflow = f.buf[:0], false
		case c == 0x02:
			f.buf, f.overflow = append(f.buf[:0], c), false
		case len(f.buf) >= maxLine:
			f.overflow = true
		default:
			f.buf = append(f.buf, c)
		}
	}
	return lines
}
