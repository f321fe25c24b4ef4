package escpos

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/passline/passline/wire"
)

// Extractor reads order tickets with per-POS patterns. It is safe for
// concurrent use once built.
type Extractor struct {
	patterns []compiled
}

type compiled struct {
	Pattern
	match, orderID, shortCode, item, promised *regexp.Regexp
}

// NewExtractor compiles the patterns; the error names the bad one as
// patterns[i].field.
func NewExtractor(patterns []Pattern) (*Extractor, error) {
	x := &Extractor{}
	for i, p := range patterns {
		c := compiled{Pattern: p}
		if p.OrderID == "" {
			return nil, fmt.Errorf("patterns[%d].order_id: missing", i)
		}
		if _, err := ParseScanCode(p.ScanCode); err != nil {
			return nil, fmt.Errorf("patterns[%d].scan_code: %w", i, err)
		}
		if p.PromisedAt != "" && p.TimeLayout == "" {
			return nil, fmt.Errorf("patterns[%d].time_layout: needed with promised_at (e.g. \"15:04\")", i)
		}
		for _, f := range []struct {
			name string
			src  string
			dst  **regexp.Regexp
		}{
			{"match", p.Match, &c.match}, {"order_id", p.OrderID, &c.orderID}, {"short_code", p.ShortCode, &c.shortCode},
			{"item", p.Item, &c.item}, {"promised_at", p.PromisedAt, &c.promised},
		} {
			if f.src == "" {
				continue
			}
			re, err := regexp.Compile(f.src)
			if err != nil {
				return nil, fmt.Errorf("patterns[%d].%s: %w", i, f.name, err)
			}
			*f.dst = re
		}
		if c.item != nil && c.item.SubexpIndex("name") < 0 && c.item.SubexpIndex("sku") < 0 {
			return nil, fmt.Errorf("patterns[%d].item: needs a (?P<name>...) or (?P<sku>...) group", i)
		}
		x.patterns = append(x.patterns, c)
	}
	return x, nil
}

// Extract reads a ticket's text. It returns ok=false when no pattern
// matches or the matching pattern finds no order id: the caller publishes
// such a ticket as unparsed, with its raw text. now is when the ticket was
// printed; it anchors promised times that carry only a time of day.
func (x *Extractor) Extract(text string, now time.Time) (wire.Ticket, bool) {
	t, _, ok := x.Read(text, now)
	return t, ok
}

// Read is Extract that also returns the pattern that read the ticket.
func (x *Extractor) Read(text string, now time.Time) (wire.Ticket, *Pattern, bool) {
	text = strings.ToValidUTF8(text, "\uFFFD")
	for i := range x.patterns {
		p := &x.patterns[i]
		if p.match != nil && !p.match.MatchString(text) {
			continue
		}
		id := token(group(p.orderID, text))
		if id == "" {
			return wire.Ticket{}, nil, false
		}
		t := wire.Ticket{OrderID: id, Channel: clip(p.Channel), ShortCode: clip(group(p.shortCode, text))}
		t.Items = p.items(text)
		if at, ok := p.promisedAt(text, now); ok {
			t.PromisedAt = &at
		}
		return t, &p.Pattern, true
	}
	return wire.Ticket{}, nil, false
}

func (p *compiled) items(text string) []wire.Item {
	if p.item == nil {
		return nil
	}
	var items []wire.Item
	nameI, qtyI, skuI := p.item.SubexpIndex("name"), p.item.SubexpIndex("qty"), p.item.SubexpIndex("sku")
	for _, m := range p.item.FindAllStringSubmatch(text, wire.MaxItems) {
		it := wire.Item{Qty: 1}
		if nameI >= 0 {
			it.Name = clip(strings.TrimSpace(m[nameI]))
		}
		if qtyI >= 0 && m[qtyI] != "" {
			q, err := strconv.Atoi(m[qtyI])
			if err != nil || q < 1 || q > wire.MaxQty {
				continue
			}
			it.Qty = q
		}
		switch {
		case skuI >= 0 && m[skuI] != "":
			it.SKU = clip(strings.TrimSpace(m[skuI]))
		case p.SKUs[it.Name] != "":
			it.SKU = clip(p.SKUs[it.Name])
		default:
			it.SKU = it.Name
		}
		if it.SKU == "" {
			continue
		}
		it.Station = clip(p.Stations[it.SKU])
		items = append(items, it)
	}
	return items
}

// promisedAt parses the promised time; a layout without a date takes the
// ticket's date, moved by a day when that lands more than 12 h away.
func (p *compiled) promisedAt(text string, now time.Time) (time.Time, bool) {
	s := strings.TrimSpace(group(p.promised, text))
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.ParseInLocation(p.TimeLayout, s, now.Location())
	if err != nil {
		return time.Time{}, false
	}
	if t.Year() == 0 {
		y, m, d := now.Date()
		t = time.Date(y, m, d, t.Hour(), t.Minute(), t.Second(), 0, now.Location())
		if t.Sub(now) > 12*time.Hour {
			t = t.AddDate(0, 0, -1)
		} else if now.Sub(t) > 12*time.Hour {
			t = t.AddDate(0, 0, 1)
		}
	}
	if d := t.Sub(now); d > wire.MaxClockSkew || d < -wire.MaxClockSkew {
		return time.Time{}, false
	}
	return t, true
}

// group returns the first capture group of re in text ("" when re is nil
// or does not match).
func group(re *regexp.Regexp, text string) string {
	if re == nil {
		return ""
	}
	m := re.FindStringSubmatch(text)
	switch {
	case m == nil:
		return ""
	case len(m) > 1:
		return m[1]
	default:
		return m[0]
	}
}

// token makes s a wire token: characters outside [A-Za-z0-9_-] become '-',
// and it is cut to wire.MaxTokenLen.
func token(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && (r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return '-'
	}, strings.TrimSpace(s))
	if len(s) > wire.MaxTokenLen {
		s = s[:wire.MaxTokenLen]
	}
	if strings.Trim(s, "-") == "" {
		return ""
	}
	return s
}

// clip cuts s to wire.MaxTextLen bytes on a rune boundary.
func clip(s string) string {
	if len(s) <= wire.MaxTextLen {
		return s
	}
	s = s[:wire.MaxTextLen]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}

// clipRaw cuts s to wire.MaxRawLen bytes on a rune boundary.
func clipRaw(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= wire.MaxRawLen {
		return s
	}
	s = s[:wire.MaxRawLen]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s
}
