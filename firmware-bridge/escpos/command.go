package escpos

// command handles the command at the start of b: it returns the bytes of
// header it consumed (payloads are dropped through d.skip and d.untilNUL),
// whether it was a paper cut, and ok=false when b holds only part of the
// header. Unknown commands are taken to be two bytes long.
func (d *Decoder) command(b []byte) (n int, cut, ok bool) {
	if len(b) < 2 {
		return 0, false, false
	}
	switch b[0] {
	case esc:
		return d.escCommand(b)
	case fs:
		return d.fsCommand(b)
	case gs:
		return d.gsCommand(b)
	default: // DLE: real-time requests (EOT, ENQ, DC4)
		switch b[1] {
		case 0x04, 0x05:
			return need(b, 3)
		case 0x14:
			return need(b, 5)
		}
		return 1, false, true
	}
}

// need reports whether b holds an n-byte command.
func need(b []byte, n int) (int, bool, bool) {
	if len(b) < n {
		return 0, false, false
	}
	return n, false, true
}

func le16(lo, hi byte) int { return int(lo) | int(hi)<<8 }

func (d *Decoder) escCommand(b []byte) (int, bool, bool) {
	switch b[1] {
	case '@':
		d.reset()
		return 2, false, true
	case '2', 'L', 'S', '<':
		return 2, false, true
	case 'i', 'm': // partial cuts
		return 2, true, true
	case 'd', 'e': // feed n lines
		if len(b) < 3 {
			return 0, false, false
		}
		for i := 0; i < int(b[2]) && i < 8; i++ {
			d.newline()
		}
		return 3, false, true
	case 't':
		if len(b) < 3 {
			return 0, false, false
		}
		d.setSingle(b[2])
		return 3, false, true
	case '!', '-', 'E', 'G', 'M', 'a', 'J', '3', 'R', '{', 'V', 'r', 'U', ' ', '%', '=', 'T', '?', 'K', 'F':
		return need(b, 3)
	case 'c': // ESC c 3 n, ESC c 4 n, ESC c 5 n
		return need(b, 4)
	case '$', '\\', 'B':
		return need(b, 4)
	case 'p': // cash drawer pulse
		return need(b, 5)
	case 'W':
		return need(b, 10)
	case 'D': // tab stops, NUL-terminated
		d.untilNUL = true
		return 2, false, true
	case '*': // bit image
		if len(b) < 5 {
			return 0, false, false
		}
		k := le16(b[3], b[4])
		if b[2] > 1 {
			k *= 3
		}
		d.skip = k
		return 5, false, true
	}
	return 2, false, true
}

func (d *Decoder) fsCommand(b []byte) (int, bool, bool) {
	switch b[1] {
	case '&':
		d.setMulti(true)
		return 2, false, true
	case '.':
		d.setMulti(false)
		return 2, false, true
	case '!', '-', 'C', 'W':
		return need(b, 3)
	case 'p', 'S':
		return need(b, 4)
	case '2': // define user character: FS 2 c1 c2 + 72 bytes
		if len(b) < 4 {
			return 0, false, false
		}
		d.skip = 72
		return 4, false, true
	}
	return 2, false, true
}

func (d *Decoder) gsCommand(b []byte) (int, bool, bool) {
	switch b[1] {
	case 'V': // cut: GS V m, or GS V m n for m >= 65
		if len(b) < 3 {
			return 0, false, false
		}
		if b[2] >= 65 {
			n, _, ok := need(b, 4)
			return n, ok, ok
		}
		return 3, true, true
	case ':':
		return 2, false, true
	case '!', 'B', 'H', 'h', 'w', 'f', 'r', 'I', 'a', 'b', 'E', '/', 'T':
		return need(b, 3)
	case 'L', 'W', '\\', '$', 'P':
		return need(b, 4)
	case '^':
		return need(b, 5)
	case 'k': // barcode
		if len(b) < 3 {
			return 0, false, false
		}
		if b[2] <= 6 {
			d.untilNUL = true
			return 3, false, true
		}
		if len(b) < 4 {
			return 0, false, false
		}
		d.skip = int(b[3])
		return 4, false, true
	}
	return d.gsData(b)
}

// gsData handles GS commands that carry a counted payload.
func (d *Decoder) gsData(b []byte) (int, bool, bool) {
	switch b[1] {
	case '(': // GS ( fn pL pH data: QR codes, graphics, settings
		if len(b) < 5 {
			return 0, false, false
		}
		d.skip = le16(b[3], b[4])
		return 5, false, true
	case '8': // GS 8 L p1 p2 p3 p4 data: large graphics
		if len(b) < 7 {
			return 0, false, false
		}
		d.skip = int(b[3]) | int(b[4])<<8 | int(b[5])<<16 | int(b[6])<<24
		return 7, false, true
	case 'v': // GS v 0 m xL xH yL yH data: raster image
		if len(b) < 8 {
			return 0, false, false
		}
		d.skip = le16(b[4], b[5]) * le16(b[6], b[7])
		return 8, false, true
	case '*': // GS * x y data: downloaded bit image
		if len(b) < 4 {
			return 0, false, false
		}
		d.skip = int(b[2]) * int(b[3]) * 8
		return 4, false, true
	}
	return 2, false, true
}
