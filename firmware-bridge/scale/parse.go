// Package scale reads continuous-output serial scales: it splits the byte
// stream into frames, parses the common line formats, finds stable
// weights, and publishes each stable change once as a weight event.
//
// Supported formats (ParseLine):
//
//	ST,GS,+  1.234kg    A&D, CAS and most Chinese indicators: status (ST
//	US,NT,-0000.50 kg   stable, US unstable, OL overload), gross/net, sign,
//	ST,GS,  1.234,kg    weight, unit (kg, g, lb, oz); commas or spaces
//	STX + 3 status + 6 weight + 6 tare digits  Mettler Toledo continuous
//	   1.234 kg         a bare weight and unit: stability unknown
package scale

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Reading is one parsed line from the scale.
type Reading struct {
	Grams float64
	// StatusKnown is true when the scale says whether it is stable; Stable
	// is then its word. Without a status, stability is judged from
	// consecutive readings alone.
	StatusKnown bool
	Stable      bool
	Net         bool
	Overload    bool
}

// ErrNoWeight means the line is not a weight (noise, a half line, a
// banner); the caller skips it.
var ErrNoWeight = errors.New("no weight in line")

var (
	statusLine = regexp.MustCompile(`^(ST|US|OL|QT)\s*,\s*(GS|NT|TR|G|N|T)?\s*,?\s*([+-])?\s*([0-9]+(?:\.[0-9]+)?)\s*,?\s*(kg|g|lb|oz)?\s*$`)
	bareLine   = regexp.MustCompile(`^(?:[A-Za-z]{1,3}[:=]?)?\s*([+-])?\s*([0-9]+(?:\.[0-9]+)?)\s*(kg|g|lb|oz)\s*(?:[A-Za-z?]{0,2})\s*$`)
)

const maxLine = 64

// ParseLine parses one line or frame (without its terminator).
func ParseLine(line []byte) (Reading, error) {
	if len(line) > maxLine {
		return Reading{}, fmt.Errorf("%w: %d-byte line", ErrNoWeight, len(line))
	}
	if len(line) > 0 && line[0] == 0x02 {
		return parseToledo(line[1:])
	}
	s := strings.TrimSpace(string(line))
	if m := statusLine.FindStringSubmatch(s); m != nil {
		r, err := weigh(m[3], m[4], m[5])
		if err != nil {
			return Reading{}, err
		}
		r.StatusKnown, r.Stable, r.Overload = true, m[1] == "ST", m[1] == "OL"
		r.Net = m[2] == "NT" || m[2] == "N"
		return r, nil
	}
	if m := bareLine.FindStringSubmatch(s); m != nil {
		return weigh(m[1], m[2], m[3])
	}
	return Reading{}, fmt.Errorf("%w: %q", ErrNoWeight, s)
}

// weigh converts a signed number in a unit to grams.
func weigh(sign, num, unit string) (Reading, error) {
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v > 1e6 {
		return Reading{}, fmt.Errorf("%w: number %q", ErrNoWeight, num)
	}
	if sign == "-" {
		v = -v
	}
	switch unit {
	case "kg", "":
		v *= 1000
	case "lb":
		v *= 453.59237
	case "oz":
		v *= 28.349523125
	}
	return Reading{Grams: v}, nil
}

// parseToledo parses a Mettler Toledo continuous frame after its STX:
// status words A, B, C, six weight digits, six tare digits.
func parseToledo(f []byte) (Reading, error) {
	if len(f) < 15 {
		return Reading{}, fmt.Errorf("%w: short Toledo frame", ErrNoWeight)
	}
	a, b, c := f[0], f[1], f[2]
	if a&0x20 == 0 || b&0x20 == 0 {
		return Reading{}, fmt.Errorf("%w: bad Toledo status bytes", ErrNoWeight)
	}
	digits := strings.TrimSpace(string(f[3:9]))
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 {
		return Reading{}, fmt.Errorf("%w: Toledo weight %q", ErrNoWeight, f[3:9])
	}
	// Decimal point position: 0 → ×100, 1 → ×10, 2 → ×1, 3.. → /10^(k-2).
	v := float64(n)
	switch dp := int(a & 0x07); {
	case dp < 2:
		v *= []float64{100, 10}[dp]
	default:
		for i := 2; i < dp; i++ {
			v /= 10
		}
	}
	switch {
	case c&0x07 == 1: // grams
	case b&0x10 != 0: // kg
		v *= 1000
	default: // lb
		v *= 453.59237
	}
	if b&0x02 != 0 {
		v = -v
	}
	return Reading{Grams: v, StatusKnown: true, Stable: b&0x08 == 0, Net: b&0x01 != 0, Overload: b&0x04 != 0}, nil
}
