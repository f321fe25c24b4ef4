package sms

import "unicode/utf16"

// Encoding is how an SMS carries its text.
type Encoding string

// SMS encodings. A text made only of GSM 03.38 characters goes as GSM-7
// (160 septets in one segment, 153 per segment when concatenated); any other
// character makes the whole text UCS-2 (70 UTF-16 units, 67 when
// concatenated). One Chinese character therefore costs as much room as
// two or more Latin letters, and a single emoji forces UCS-2.
const (
	GSM7 Encoding = "GSM-7"
	UCS2 Encoding = "UCS-2"
)

// Segment sizes of GSM-7 (septets) and UCS-2 (UTF-16 units).
const (
	GSM7Single = 160
	GSM7Multi  = 153
	UCS2Single = 70
	UCS2Multi  = 67
)

// gsmBasic is the GSM 03.38 basic character set (one septet each).
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtended are the extension-table characters (escape + char: two septets).
const gsmExtended = "^{}\\[~]|€\f"

var gsmCost = func() map[rune]int {
	m := make(map[rune]int, 140)
	for _, r := range gsmBasic {
		m[r] = 1
	}
	for _, r := range gsmExtended {
		m[r] = 2
	}
	return m
}()

// Count is the size of a text as an SMS.
type Count struct {
	Encoding Encoding
	Units    int // septets (GSM-7) or UTF-16 code units (UCS-2)
	Segments int // SMS parts needed; 0 for an empty text
}

// Measure returns the encoding, size and number of segments of text.
// Concatenated segments never split a GSM-7 escape pair or a UTF-16
// surrogate pair, as real gateways do not.
func Measure(text string) Count {
	costs, gsm := unitCosts(text)
	single, multi, enc := GSM7Single, GSM7Multi, GSM7
	if !gsm {
		single, multi, enc = UCS2Single, UCS2Multi, UCS2
	}
	total := 0
	for _, c := range costs {
		total += c
	}
	c := Count{Encoding: enc, Units: total}
	switch {
	case total == 0:
	case total <= single:
		c.Segments = 1
	default:
		c.Segments = pack(costs, multi)
	}
	return c
}

// Fits reports whether text fits in maxSegments segments.
func Fits(text string, maxSegments int) bool {
	return Measure(text).Segments <= maxSegments
}

// unitCosts returns each character's cost in units and whether the whole
// text is GSM-7.
func unitCosts(text string) ([]int, bool) {
	costs := make([]int, 0, len(text))
	for _, r := range text {
		c, ok := gsmCost[r]
		if !ok {
			return ucs2Costs(text), false
		}
		costs = append(costs, c)
	}
	return costs, true
}

func ucs2Costs(text string) []int {
	costs := make([]int, 0, len(text))
	for _, r := range text {
		costs = append(costs, len(utf16.Encode([]rune{r})))
	}
	return costs
}

// pack fills segments of size units greedily without splitting a character.
func pack(costs []int, size int) int {
	segments, used := 1, 0
	for _, c := range costs {
		if used+c > size {
			segments++
			used = 0
		}
		used += c
	}
	return segments
}
