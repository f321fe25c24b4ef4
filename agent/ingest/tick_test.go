package ingest_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/ingest"
	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/wire"
)

// tickCounter counts the evaluations made by timer ticks.
type tickCounter struct{ ticks atomic.Int64 }

func (c *tickCounter) Decide(_ *agent.Order, t agent.Trigger) []wire.Decision {
	if t.Event == nil {
		c.ticks.Add(1)
	}
	return nil
}

// TestSetTickTakesEffectLive starts with an hour between re-evaluations,
// then a new retry_interval of 20 ms must make ticks come without a restart.
func TestSetTickTakesEffectLive(t *testing.T) {
	var acked atomic.Int64
	dec := &tickCounter{}
	r := newRig(t, func(w *ingest.Writer) { w.Tick, w.Decider = time.Hour, dec })
	r.w.Offer(input(t, at.Ticket("s1", "o1", "grill", time.Now()), &acked))
	at.Eventually(t, 20*time.Second, "acked", func() bool { return acked.Load() == 1 })
	if n := dec.ticks.Load(); n != 0 {
		t.Fatalf("%d ticks with an hour's interval", n)
	}
	r.w.SetTick(0) // ignored
	r.w.SetTick(20 * time.Millisecond)
	at.Eventually(t, 20*time.Second, "ticks at the new interval", func() bool { return dec.ticks.Load() >= 3 })
}
