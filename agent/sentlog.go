package agent

import (
	"bytes"
	"encoding/json"
	"iter"
	"slices"

	"github.com/passline/passline/wire"
)

// SentLog holds, per decision kind, the last decision told about an
// order, sorted by kind. An order sees a few kinds at most, so a slice
// (96 bytes an entry) replaces the map it was, which took about 870 bytes
// an order even with one kind in it: with 1,000 open orders that was the
// agent's largest item of live heap. In JSON it is the map it was, an
// object keyed by kind, so the state db reads and writes the same bytes.
type SentLog []SentKind

// SentKind is one kind's entry in a SentLog.
type SentKind struct {
	Kind wire.DecisionKind
	Sent
}

// Get returns kind's entry and whether there is one.
func (l SentLog) Get(kind wire.DecisionKind) (Sent, bool) {
	if i, ok := l.find(kind); ok {
		return l[i].Sent, true
	}
	return Sent{}, false
}

// Count is kind's Count, 0 when the rider was never told that kind.
func (l SentLog) Count(kind wire.DecisionKind) int {
	s, _ := l.Get(kind)
	return s.Count
}

// Set stores s as kind's entry.
func (l *SentLog) Set(kind wire.DecisionKind, s Sent) {
	i, ok := l.find(kind)
	if ok {
		(*l)[i].Sent = s
		return
	}
	*l = slices.Insert(*l, i, SentKind{Kind: kind, Sent: s})
}

// All yields every kind's entry, in order of kind.
func (l SentLog) All() iter.Seq2[wire.DecisionKind, Sent] {
	return func(yield func(wire.DecisionKind, Sent) bool) {
		for _, e := range l {
			if !yield(e.Kind, e.Sent) {
				return
			}
		}
	}
}

func (l SentLog) find(kind wire.DecisionKind) (int, bool) {
	return slices.BinarySearchFunc(l, kind, func(e SentKind, k wire.DecisionKind) int {
		switch {
		case e.Kind < k:
			return -1
		case e.Kind > k:
			return 1
		}
		return 0
	})
}

// MarshalJSON writes the log as an object keyed by kind, in order of
// kind, as encoding/json writes a map.
func (l SentLog) MarshalJSON() ([]byte, error) {
	if l == nil {
		return []byte("null"), nil
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range l {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(string(e.Kind))
		if err != nil {
			return nil, err
		}
		v, err := json.Marshal(e.Sent)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON reads an object keyed by kind; null leaves l as it is.
func (l *SentLog) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	var m map[wire.DecisionKind]Sent
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	out := make(SentLog, 0, len(m))
	for k, s := range m {
		out = append(out, SentKind{Kind: k, Sent: s})
	}
	slices.SortFunc(out, func(a, b SentKind) int {
		switch {
		case a.Kind < b.Kind:
			return -1
		case a.Kind > b.Kind:
			return 1
		}
		return 0
	})
	*l = out
	return nil
}
