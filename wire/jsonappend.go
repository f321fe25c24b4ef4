package wire

import (
	"math"
	"strconv"
	"time"
	"unicode/utf8"
)

// A hand-written encoder for the message the relay makes once per
// decision (Notification): encoding/json's reflection and time.Time's
// MarshalJSON cost several allocations and microseconds per message. It
// writes the same bytes as json.Marshal (TestNotificationAppendJSON
// compares them), string escaping included.

const hexDigits = "0123456789abcdef"

// AppendJSONString appends s as encoding/json writes a string with HTML
// escaping on: <, > and & as \u003c..., U+2028 and U+2029 escaped, invalid
// UTF-8 as \ufffd. With AppendJSONTime and AppendJSONFloat it lets a hot
// path write a message's JSON without reflection, byte for byte as
// json.Marshal would.
func AppendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// AppendJSONTime appends t as time.Time.MarshalJSON does; false when
// MarshalJSON would fail (a year outside 0-9999).
func AppendJSONTime(b []byte, t time.Time) ([]byte, bool) {
	if y := t.Year(); y < 0 || y > 9999 {
		return b, false
	}
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"'), true
}

// AppendJSONFloat appends f as encoding/json writes a float64; false for
// NaN and the infinities, which json.Marshal refuses.
func AppendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' { // e-09 → e-9, as encoding/json
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendJSON appends n as json.Marshal writes it; false when it cannot
// (a time json.Marshal refuses), and the caller falls back to json.Marshal.
func (n *Notification) appendJSON(b []byte) ([]byte, bool) {
	ok := true
	str := func(key, v string, omitEmpty bool) {
		if omitEmpty && v == "" {
			return
		}
		b = append(b, key...)
		b = AppendJSONString(b, v)
	}
	tm := func(key string, t time.Time) {
		b = append(b, key...)
		var good bool
		b, good = AppendJSONTime(b, t)
		ok = ok && good
	}
	b = append(b, `{"v":`...)
	b = strconv.AppendInt(b, int64(n.V), 10)
	str(`,"id":`, n.ID, false)
	str(`,"rider":`, n.Rider, false)
	str(`,"store":`, n.Store, false)
	str(`,"store_name":`, n.StoreName, true)
	str(`,"order_id":`, n.OrderID, false)
	str(`,"short_code":`, n.ShortCode, true)
	str(`,"kind":`, string(n.Kind), false)
	str(`,"event_id":`, n.EventID, true)
	str(`,"locale":`, n.Locale, true)
	str(`,"text":`, n.Text, false)
	if n.Minutes != nil {
		b = append(b, `,"minutes":`...)
		b = strconv.AppendInt(b, int64(*n.Minutes), 10)
	}
	if n.ETA != nil {
		tm(`,"eta":`, *n.ETA)
	}
	str(`,"shelf":`, n.Shelf, true)
	tm(`,"decided_at":`, n.DecidedAt)
	tm(`,"sent_at":`, n.SentAt)
	if n.Replayed {
		b = append(b, `,"replayed":true`...)
	}
	str(`,"trace_id":`, n.TraceID, true)
	if n.Version != 0 {
		b = append(b, `,"version":`...)
		b = strconv.AppendUint(b, n.Version, 10)
	}
	if len(n.Flags) > 0 {
		b = append(b, `,"flags":[`...)
		for i, f := range n.Flags {
			if i > 0 {
				b = append(b, ',')
			}
			b = AppendJSONString(b, f)
		}
		b = append(b, ']')
	}
	if n.Resent {
		b = append(b, `,"resent":true`...)
	}
	str(`,"traceparent":`, n.Traceparent, true)
	return append(b, '}'), ok
}
