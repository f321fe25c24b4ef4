package evdev

import (
	"fmt"
	"time"

	"github.com/passline/passline/wire"
)

// Key codes a barcode scanner uses around the characters it types
// (linux/input-event-codes.h).
const (
	keyEnter      = 28
	keyKPEnter    = 96
	keyLeftShift  = 42
	keyRightShift = 54
)

// usKeys are the characters of a US keyboard layout, the one barcode
// scanners type in out of the box: per key code, the character without
// and with shift.
var usKeys = func() map[uint16][2]byte {
	m := map[uint16][2]byte{}
	rows := []struct {
		first          uint16
		plain, shifted string
	}{
		{2, "1234567890-=", "!@#$%^&*()_+"},
		{16, "qwertyuiop[]", "QWERTYUIOP{}"},
		{30, "asdfghjkl;'`", "ASDFGHJKL:\"~"},
		{43, "\\zxcvbnm,./", "|ZXCVBNM<>?"},
	}
	for _, r := range rows {
		for i := range len(r.plain) {
			m[r.first+uint16(i)] = [2]byte{r.plain[i], r.shifted[i]}
		}
	}
	m[57] = [2]byte{' ', ' '} // KEY_SPACE
	// The keypad, as scanners set to "numeric keypad" mode type digits.
	for code, c := range map[uint16]byte{71: '7', 72: '8', 73: '9', 74: '-', 75: '4', 76: '5', 77: '6', 78: '+',
		79: '1', 80: '2', 81: '3', 82: '0', 83: '.', 55: '*', 98: '/'} {
		m[code] = [2]byte{c, c}
	}
	return m
}()

// Scanner turns the key presses of a USB/HID barcode scanner (a keyboard
// that types the code it read, then Enter) into scanned codes. It follows
// shift to type capitals and symbols (US layout). A code holding a key that
// types no character, longer than wire.MaxScanLen, or interrupted by a
// pause longer than Gap (a stray key press before the scan) is discarded,
// never published in part. A Scanner is not safe for concurrent use.
type Scanner struct {
	// Gap is the longest pause between two characters of one code; a
	// scanner types a whole code within milliseconds. 0 means no limit.
	Gap time.Duration

	buf   []byte
	bad   bool // the code holds a key that types nothing known
	shift [2]bool
	last  time.Time
}

// Feed takes one input event seen at now. It returns the code when the
// event ends one (Enter), with ok false when that code was discarded;
// done is false while a code is still being typed.
func (s *Scanner) Feed(ev InputEvent, now time.Time) (code string, ok, done bool) {
	if ev.Type != evKey {
		return "", false, false
	}
	switch ev.Code {
	case keyLeftShift, keyRightShift:
		s.shift[ev.Code/keyRightShift] = ev.Value != 0 // 42/54 = 0, 54/54 = 1
		return "", false, false
	}
	if !ev.Pressed() {
		return "", false, false
	}
	if s.Gap > 0 && len(s.buf)+boolInt(s.bad) > 0 && now.Sub(s.last) > s.Gap {
		s.reset()
	}
	s.last = now
	if ev.Code == keyEnter || ev.Code == keyKPEnter {
		code, ok = string(s.buf), !s.bad && len(s.buf) > 0 && len(s.buf) <= wire.MaxScanLen
		s.reset()
		return code, ok, true
	}
	c, known := usKeys[ev.Code]
	switch {
	case !known:
		s.bad = true
	case len(s.buf) <= wire.MaxScanLen: // one more than allowed marks it overlong
		s.buf = append(s.buf, c[boolInt(s.shift[0] || s.shift[1])])
	}
	return "", false, false
}

func (s *Scanner) reset() { s.buf, s.bad = s.buf[:0], false }

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Typed is what the kernel reports when a scanner types s and Enter on a
// US layout, as records of size bytes (24 or 16): for each character a
// press and release, inside shift for capitals and symbols. It is for
// tests and tools; a character no key types is an error.
func Typed(size int, s string) ([]byte, error) {
	keyOf := map[byte][2]uint16{} // character → key code, shifted (0/1)
	for code, cs := range usKeys {
		for sh, c := range cs {
			if k, ok := keyOf[c]; !ok || code < k[0] { // main rows before the keypad
				keyOf[c] = [2]uint16{code, uint16(sh)}
			}
		}
	}
	var out []byte
	stroke := func(code uint16) {
		out = append(out, Encode(size, 0, 0, evKey, code, keyPress)...)
		out = append(out, Encode(size, 0, 0, evKey, code, 0)...)
		out = append(out, Encode(size, 0, 0, 0, 0, 0)...) // EV_SYN
	}
	for i := 0; i < len(s); i++ {
		k, ok := keyOf[s[i]]
		if !ok {
			return nil, fmt.Errorf("no US key types %q", s[i])
		}
		if k[1] == 1 {
			out = append(out, Encode(size, 0, 0, evKey, keyLeftShift, keyPress)...)
		}
		stroke(k[0])
		if k[1] == 1 {
			out = append(out, Encode(size, 0, 0, evKey, keyLeftShift, 0)...)
		}
	}
	stroke(keyEnter)
	return out, nil
}
