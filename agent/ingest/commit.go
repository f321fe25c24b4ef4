package ingest

import (
	"encoding"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/bolt"
	"github.com/passline/passline/wire"
)

// commit applies decoded items in one transaction and returns how many
// decisions it added to the outbox.
func (w *Writer) commit(items []item) (int, error) {
	added := 0
	now := w.Now()
	rs := w.takeRemovals()
	err := w.DB.Update(func(tx *bolt.Tx) error {
		if err := tx.RemoveOutbox(rs); err != nil {
			return err
		}
		w.k.Closed = tx.InHistory
		learned := false
		for i := range items {
			items[i].refused = nil
			n, l, err := w.apply(tx, &items[i], now)
			if err != nil {
				return err
			}
			added += n
			learned = learned || l
		}
		if learned {
			if err := w.saveModel(tx); err != nil {
				return err
			}
		}
		return tx.PutKitchenState(w.k)
	})
	if err != nil {
		w.restoreRemovals(rs)
	}
	return added, err
}

// apply commits one item's effects; it reports decisions added and whether
// the model learned.
func (w *Writer) apply(tx *bolt.Tx, it *item, now time.Time) (int, bool, error) {
	if it.reject != nil {
		r := *it.reject
		r.At = now
		return 0, false, tx.AddReject(r)
	}
	ev := it.ev
	if tx.Seen(ev.ID) {
		return 0, false, tx.CountReject(agent.ReasonDuplicate)
	}
	if err := tx.MarkSeen(ev.ID); err != nil {
		return 0, false, err
	}
	ch, err := w.k.Apply(ev)
	var ref *agent.Refusal
	if errors.As(err, &ref) {
		raw, _ := ev.Marshal()
		it.refused = &agent.Reject{Reason: ref.Reason, Detail: ref.Msg + " (event " + ev.ID + ")", Raw: raw}
		r := *it.refused
		r.At = now
		return 0, false, tx.AddReject(r)
	}
	if err != nil || ch == nil {
		return 0, false, err
	}
	stale := w.StaleAfter > 0 && now.Sub(ev.At) > w.StaleAfter
	if stale {
		w.stale.Add(1)
		if ch.From == "" || ev.Kind == wire.EventTicket {
			ch.Order.Stale = true
		}
	}
	return w.settle(tx, ch, agent.Trigger{Now: now, Event: ev, From: ch.From}, stale)
}

// settle runs the Decider on a changed order and stores the outcome: the
// decisions in the outbox, the order in open orders or history. A stale
// event decides nothing.
func (w *Writer) settle(tx *bolt.Tx, ch *agent.Change, t agent.Trigger, stale bool) (int, bool, error) {
	o := ch.Order
	added := 0
	var ds []wire.Decision
	if !stale {
		ds = w.decide(o, t)
	}
	for _, d := range ds {
		ok, err := tx.AppendOutbox(d, t.Now)
		if err != nil {
			return 0, false, fmt.Errorf("outbox %s: %w", d.ID, err)
		}
		if ok {
			added++
		} else {
			w.rejectLog.log(w.Log, "decision_not_stored", "decision "+d.ID+" dropped: invalid, or the outbox is full (see outbox drops)")
		}
	}
	if !ch.Closed {
		return added, false, tx.PutOrder(o)
	}
	if err := tx.DeleteOrder(o.ID); err != nil {
		return 0, false, err
	}
	if !o.TicketSeen {
		raw, _ := jsonOrder(o)
		return added, false, tx.AddReject(agent.Reject{At: t.Now, Reason: agent.ReasonUnknownOrder,
			Detail: "order " + o.ID + " closed without a ticket", Raw: raw})
	}
	rec := agent.NewHistoryRecord(o, t.Now)
	if err := tx.AddHistory(rec); err != nil {
		return 0, false, err
	}
	if l, ok := w.Decider.(agent.Learner); ok && rec.PrepSeconds > 0 && o.Status != wire.StatusCancelled {
		l.Learn(rec)
		return added, true, nil
	}
	return added, false, nil
}

func (w *Writer) saveModel(tx *bolt.Tx) error {
	m, ok := w.Decider.(encoding.BinaryMarshaler)
	if !ok {
		return nil
	}
	b, err := m.MarshalBinary()
	if err != nil {
		return fmt.Errorf("serialize model: %w", err)
	}
	return tx.SaveModel(w.Store, b)
}

// tick re-evaluates every open order (countdowns, delays) and closes orders
// that will not move again, in one transaction.
func (w *Writer) tick() error {
	now := w.Now()
	added := 0
	err := w.DB.Update(func(tx *bolt.Tx) error {
		w.k.Closed = tx.InHistory
		learned := false
		for _, ch := range w.k.Expire(now, w.FinishedTTL, w.OrphanTTL) {
			n, l, err := w.settle(tx, ch, agent.Trigger{Now: now}, false)
			if err != nil {
				return err
			}
			added, learned = added+n, learned || l
		}
		for _, o := range w.k.Orders {
			seq := o.Seq
			ds := w.decide(o, agent.Trigger{Now: now})
			for _, d := range ds {
				if ok, err := tx.AppendOutbox(d, now); err != nil {
					return err
				} else if ok {
					added++
				}
			}
			if o.Seq != seq || len(ds) > 0 {
				if err := tx.PutOrder(o); err != nil {
					return err
				}
			}
		}
		if learned {
			if err := w.saveModel(tx); err != nil {
				return err
			}
		}
		return tx.PutKitchenState(w.k)
	})
	if err == nil && added > 0 && w.Notify != nil {
		w.Notify()
	}
	return err
}

// limiter logs each reason at most once per interval, with a count.
type limiter struct {
	mu    sync.Mutex
	every time.Duration
	last  map[string]time.Time
	quiet map[string]int
}

func newLimiter(every time.Duration) *limiter {
	return &limiter{every: every, last: map[string]time.Time{}, quiet: map[string]int{}}
}

func (l *limiter) log(log *slog.Logger, reason, detail string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.last[reason]) < l.every {
		l.quiet[reason]++
		return
	}
	log.Warn("payload rejected", "reason", reason, "detail", detail, "suppressed_since_last", l.quiet[reason])
	l.last[reason], l.quiet[reason] = now, 0
}

func jsonOrder(o *agent.Order) ([]byte, error) { return json.Marshal(o) }

// decide runs the Decider, turning a panic into no decisions: a bug in a
// rule must not crash the agent on every redelivery of the same event. A
// stale order decides nothing. A recall that takes back a ready is
// decided first, whatever the Decider (agent.Recalled).
func (w *Writer) decide(o *agent.Order, t agent.Trigger) (ds []wire.Decision) {
	if o.Stale {
		return nil
	}
	recalled := agent.Recalled(o, t)
	defer func() {
		if r := recover(); r != nil {
			w.panics.Add(1)
			w.Log.Error("decider panicked; the event is applied without decisions", "order", o.ID, "panic", r)
			ds = recalled
		}
	}()
	start := time.Now()
	ds = w.Decider.Decide(o, t)
	w.traceDecisions(o, t, ds, start)
	return append(recalled, ds...)
}
