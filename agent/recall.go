package agent

import (
	"fmt"
	"time"

	"github.com/passline/passline/wire"
)

// RecallTTL is how long a recall's delayed decision stays deliverable.
const RecallTTL = 2 * time.Hour

// Recalled takes back a ready the rider was told when t is the kitchen
// event that reopened o (a bump bar recall: done back to started). It
// marks that ready withdrawn, so the next bump reports ready again under
// a new id, and returns the decision that supersedes it for the rider: a
// delayed flagged wire.FlagRecalled, caused by the recall event. The
// ready itself stays in the outbox and is delivered exactly once; the
// delayed, decided after it, is delivered after it and replaces it on the
// rider's card. It returns nothing when the rider was not told ready (the
// recall only puts the order back on the board) or t is not a reopening.
//
// It runs in the writer's transaction before the Decider, for every
// Decider, so rules cannot forget it.
func Recalled(o *Order, t Trigger) []wire.Decision {
	if t.Event == nil || !Reached(t.From, wire.StatusDone) || Reached(o.Status, wire.StatusDone) {
		return nil
	}
	if !o.Told(wire.KindReady) {
		return nil
	}
	s, _ := o.Sent.Get(wire.KindReady)
	s.Withdrawn = true
	o.Sent.Set(wire.KindReady, s)
	d := NewDecision(o, wire.KindDelayed, t.Now, RecallTTL)
	// Numbered per kind, like the rules engine's decisions, so no delayed
	// a rule makes later can take this id.
	d.ID = fmt.Sprintf("%s.%s.%s.%d", o.Store, o.ID, wire.KindDelayed, o.Sent.Count(wire.KindDelayed)+1)
	d.Rule = "recall"
	d.EventID = t.Event.ID
	d.Flags = []string{wire.FlagRecalled}
	o.MarkSent(d)
	return []wire.Decision{d}
}
