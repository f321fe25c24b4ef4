package rules

import (
	"time"

	"github.com/passline/passline/agent"
)

// learnedMemory is how many recently learned order ids the engine
// remembers, so an order is learned once: when a kitchen event makes it
// ready, and not again when it closes (or when a failed transaction is
// retried). The set lives in memory only: after a restart, an order made
// ready before it is learned a second time when it closes — one extra
// observation, harmless to a model that remembers thousands.
const learnedMemory = 8192

// learnedSet is a bounded set of order ids, oldest forgotten first.
type learnedSet struct {
	ids  map[string]struct{}
	ring []string
	next int
}

func (s *learnedSet) has(id string) bool {
	_, ok := s.ids[id]
	return ok
}

func (s *learnedSet) add(id string) {
	if s.ids == nil {
		s.ids = make(map[string]struct{}, learnedMemory)
		s.ring = make([]string, learnedMemory)
	}
	if old := s.ring[s.next]; old != "" {
		delete(s.ids, old)
	}
	s.ring[s.next] = id
	s.next = (s.next + 1) % learnedMemory
	s.ids[id] = struct{}{}
}

// Learn teaches the model a completed order from the agent's history,
// unless the engine already learned it when the order became ready.
// Records that were never ready (cancelled) teach nothing.
func (e *Engine) Learn(r agent.HistoryRecord) {
	prep := recordPrep(&r)
	if prep <= 0 {
		return
	}
	f := RecordFeatures(&r)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.learned.has(r.OrderID) {
		return
	}
	e.learned.add(r.OrderID)
	e.model.Learn(&f, prep)
}

// learnReady teaches the model an order a kitchen event just made ready,
// so the next prediction already knows it; stores whose orders close only
// hours later (no pickup event) would otherwise learn that late. Called
// with e.mu held.
func (e *Engine) learnReady(o *agent.Order) {
	ready := o.DoneAt
	if ready.IsZero() {
		ready = o.PackedAt
	}
	if !o.TicketSeen || o.AcceptedAt.IsZero() || ready.IsZero() || e.learned.has(o.ID) {
		return
	}
	prep := ready.Sub(o.AcceptedAt)
	if prep <= time.Duration(0) {
		return
	}
	f := OrderFeatures(o)
	e.learned.add(o.ID)
	e.model.Learn(&f, prep)
}
