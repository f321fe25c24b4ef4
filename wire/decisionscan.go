package wire

import (
	"strconv"
	"time"
)

// scanDecision is DecodeDecision's fast path: it decodes the decision
// agents write (one flat object, the fields named exactly as Decision's
// tags, strings of printable ASCII without escapes) in one pass, without
// encoding/json's validity scan and reflection. Anything else (an escape,
// a byte outside printable ASCII, an unknown or differently cased key, a
// null where encoding/json would keep the field, a number that does not
// fit its field, trailing data) makes it report false, and the caller
// decodes b with encoding/json as before, so what is accepted and every
// error are exactly encoding/json's. Times go through time.Time's own
// UnmarshalJSON, as with encoding/json. The relay decodes every decision
// (and the KPI recorder once more): this was about a tenth of its CPU.
func scanDecision(b []byte, d *Decision) bool {
	s := scanner{b: b}
	ok := s.object(func(key []byte) bool { return s.decisionField(key, d) })
	s.space()
	return ok && s.i == len(s.b)
}

// scanner reads JSON from b at i; every method reports false on anything
// outside the fast path.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) byte(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// object reads {"key": value, ...}, calling field for each key with s
// at its value.
func (s *scanner) object(field func(key []byte) bool) bool {
	if !s.byte('{') {
		return false
	}
	if s.byte('}') {
		return true
	}
	for {
		key, ok := s.raw()
		if !ok || !s.byte(':') {
			return false
		}
		s.space()
		if !field(key) {
			return false
		}
		if s.byte('}') {
			return true
		}
		if !s.byte(',') {
			return false
		}
	}
}

// raw reads a string of printable ASCII without escapes and returns its
// contents (a slice of b).
func (s *scanner) raw() ([]byte, bool) {
	if !s.byte('"') {
		return nil, false
	}
	start := s.i
	for ; s.i < len(s.b); s.i++ {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, false
		}
	}
	return nil, false
}

func (s *scanner) str(p *string) bool {
	v, ok := s.raw()
	if ok {
		*p = string(v)
	}
	return ok
}

func (s *scanner) time(t *time.Time) bool {
	start := s.i
	if _, ok := s.raw(); !ok {
		return false
	}
	return t.UnmarshalJSON(s.b[start:s.i]) == nil
}

// null consumes a null literal if one is next.
func (s *scanner) null() bool {
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// number reads a JSON number literal.
func (s *scanner) number() (string, bool) {
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '-' {
		s.i++
	}
	switch {
	case s.i < len(s.b) && s.b[s.i] == '0':
		s.i++
	case s.digits() == 0:
		return "", false
	}
	if s.i < len(s.b) && s.b[s.i] == '.' {
		s.i++
		if s.digits() == 0 {
			return "", false
		}
	}
	if s.i < len(s.b) && (s.b[s.i] == 'e' || s.b[s.i] == 'E') {
		s.i++
		if s.i < len(s.b) && (s.b[s.i] == '+' || s.b[s.i] == '-') {
			s.i++
		}
		if s.digits() == 0 {
			return "", false
		}
	}
	return string(s.b[start:s.i]), true
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

func (s *scanner) int(p *int) bool {
	lit, ok := s.number()
	if !ok {
		return false
	}
	v, err := strconv.ParseInt(lit, 10, 0)
	*p = int(v)
	return err == nil
}

func (s *scanner) uint(p *uint64) bool {
	lit, ok := s.number()
	if !ok {
		return false
	}
	v, err := strconv.ParseUint(lit, 10, 64)
	*p = v
	return err == nil
}

func (s *scanner) float(p *float64) bool {
	lit, ok := s.number()
	if !ok {
		return false
	}
	v, err := strconv.ParseFloat(lit, 64)
	*p = v
	return err == nil
}

func (s *scanner) bool(p *bool) bool {
	switch {
	case len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "true":
		*p, s.i = true, s.i+4
	case len(s.b)-s.i >= 5 && string(s.b[s.i:s.i+5]) == "false":
		*p, s.i = false, s.i+5
	default:
		return false
	}
	return true
}

// strings reads an array of strings or null (nil, as encoding/json).
func (s *scanner) strings(p *[]string) bool {
	if s.null() {
		*p = nil
		return true
	}
	if !s.byte('[') {
		return false
	}
	out := []string{}
	if s.byte(']') {
		*p = out
		return true
	}
	for {
		var v string
		if !s.str(&v) {
			return false
		}
		out = append(out, v)
		if s.byte(']') {
			*p = out
			return true
		}
		if !s.byte(',') {
			return false
		}
	}
}

func (s *scanner) decisionField(key []byte, d *Decision) bool {
	switch string(key) {
	case "v":
		return s.int(&d.V)
	case "id":
		return s.str(&d.ID)
	case "store":
		return s.str(&d.Store)
	case "order_id":
		return s.str(&d.OrderID)
	case "short_code":
		return s.str(&d.ShortCode)
	case "kind":
		v, ok := s.raw()
		d.Kind = knownKind(v)
		if d.Kind == "" {
			d.Kind = DecisionKind(v)
		}
		return ok
	case "rule":
		return s.str(&d.Rule)
	case "event_id":
		return s.str(&d.EventID)
	case "created_at":
		return s.time(&d.CreatedAt)
	case "expires_at":
		return s.time(&d.ExpiresAt)
	case "accepted_at":
		return s.time(&d.AcceptedAt)
	case "eta":
		if s.null() {
			d.ETA = nil
			return true
		}
		var t time.Time
		d.ETA = &t
		return s.time(d.ETA)
	case "probability":
		return s.float(&d.Probability)
	case "replayed":
		return s.bool(&d.Replayed)
	case "trace_id":
		return s.str(&d.TraceID)
	case "traceparent":
		return s.str(&d.Traceparent)
	case "flags":
		return s.strings(&d.Flags)
	case "seq":
		return s.uint(&d.Seq)
	case "order":
		if s.null() {
			d.Order = nil
			return true
		}
		if d.Order == nil { // a repeated key fills the same facts, as encoding/json
			d.Order = &OrderFacts{}
		}
		f := d.Order
		return s.object(func(key []byte) bool { return s.factsField(key, f) })
	}
	return false
}

func (s *scanner) factsField(key []byte, f *OrderFacts) bool {
	switch string(key) {
	case "items":
		return s.int(&f.Items)
	case "distinct":
		return s.int(&f.Distinct)
	case "subtotal":
		return s.float(&f.Subtotal)
	case "station":
		return s.str(&f.Station)
	case "category":
		return s.str(&f.Category)
	case "city":
		return s.str(&f.City)
	}
	return false
}

// knownKind is the kind constant v spells, without a copy; "" when none.
func knownKind(v []byte) DecisionKind {
	for _, k := range Kinds {
		if string(v) == string(k) {
			return k
		}
	}
	return ""
}
