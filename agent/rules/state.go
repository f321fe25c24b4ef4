package rules

import (
	"fmt"
	"math"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/predict"
	"github.com/passline/passline/wire"
)

// never is what since_sent and eta_moved answer when nothing was sent.
const never = 1e9

// evalState is one evaluation of one order: the rule environment and what
// the decisions need.
type evalState struct {
	o       *agent.Order
	t       agent.Trigger
	pred    predict.Prediction
	hasPred bool
	elapsed time.Duration
	lead    time.Duration
	env     Env
	tags    StoreTags
	queue   *kitchenQueue
}

func (e *Engine) state(o *agent.Order, t agent.Trigger) *evalState {
	st := &evalState{o: o, t: t, lead: e.params.LeadTime, tags: e.tags, queue: e.queueFor(o.Station)}
	if e.queueOff || o.Station == "" {
		// A fresh queue never learns, so it never has an opinion. A
		// ticket that names no station says nothing of the line it
		// waits in: replayed through these rules, the sparse
		// marketplace's station-less orders that the queue alone told
		// ready_soon came true about half the time (agent/predict
		// doc.go, Cold start).
		st.queue = &kitchenQueue{}
	}
	if o.LeadTime > 0 {
		st.lead = o.LeadTime
	}
	cooking := o.TicketSeen && !o.AcceptedAt.IsZero() &&
		(o.Status == wire.StatusAccepted || o.Status == wire.StatusStarted)
	if cooking {
		f := OrderFeatures(o)
		st.pred, st.hasPred = e.model.Predict(&f), true
		st.elapsed = max(t.Now.Sub(o.AcceptedAt), 0)
		st.queue.admit(o.ID, o.AcceptedAt, t.Now, &f)
	}
	env := &st.env
	*env = Env{
		Order:               orderEnv(o, t.Now),
		Event:               eventEnv(t.Event),
		Status:              string(o.Status),
		From:                string(t.From),
		Tick:                t.Event == nil,
		Cooking:             cooking,
		Elapsed:             st.elapsed.Seconds(),
		PredictionWindow:    e.params.PredictionWindow.Seconds(),
		ConfidenceThreshold: e.params.ConfidenceThreshold,
		RetryInterval:       e.params.RetryInterval.Seconds(),
		LeadTime:            st.lead.Seconds(),
		PReady:              st.pReady,
		Sent:                st.sent,
		SinceSent:           st.sinceSent,
		Slip:                st.slip,
		ETAMoved:            st.etaMoved,
	}
	if !o.AcceptedAt.IsZero() {
		env.Elapsed = max(t.Now.Sub(o.AcceptedAt), 0).Seconds()
	}
	if t.Event != nil && t.From != o.Status && reachedReady(o.Status) && !reachedReady(t.From) {
		env.Transition = string(o.Status)
	}
	if !cooking {
		st.queue.leave(o.ID, readyAt(o, t.Now), env.Transition != "")
	}
	env.Started = t.Event != nil && o.Status == wire.StatusStarted && t.From != wire.StatusStarted
	if cooking {
		env.ETA = st.remaining().Seconds()
	}
	return st
}

// reachedReady reports whether s is done or packed, the statuses in which
// food is ready for pickup.
func reachedReady(s wire.OrderStatus) bool {
	return s == wire.StatusDone || s == wire.StatusPacked
}

func orderEnv(o *agent.Order, now time.Time) OrderEnv {
	oe := OrderEnv{
		ID: o.ID, ShortCode: o.ShortCode, Channel: o.Channel, Station: o.Station,
		Items: o.ItemCount(), Distinct: len(o.Items), TicketSeen: o.TicketSeen,
		OpenOrders: o.Load.OpenOrders, OpenItems: o.Load.OpenItems,
	}
	if !o.PromisedAt.IsZero() {
		oe.Promised = o.PromisedAt.Sub(now).Seconds()
	}
	return oe
}

func eventEnv(ev *wire.Event) EventEnv {
	if ev == nil {
		return EventEnv{}
	}
	ee := EventEnv{ID: ev.ID, Kind: string(ev.Kind), Device: ev.DeviceID}
	if ev.Key != nil {
		ee.Action = string(ev.Key.Action)
	}
	if ev.POS != nil {
		ee.Status = string(ev.POS.Status)
	}
	return ee
}

func (st *evalState) pReady(d float64) float64 {
	if !st.hasPred || math.IsNaN(d) {
		return 0
	}
	dd := time.Duration(d * float64(time.Second))
	p := st.pred.PReady(st.elapsed, dd)
	if q, ok := st.queue.pReady(st.o.ID, st.t.Now, dd); ok {
		p = max(p, q)
	}
	return p
}

// readyAt is when the order became ready, else now.
func readyAt(o *agent.Order, now time.Time) time.Time {
	switch {
	case !o.DoneAt.IsZero():
		return o.DoneAt
	case !o.PackedAt.IsZero():
		return o.PackedAt
	}
	return now
}

func (st *evalState) sent(kind string) bool {
	return st.o.Told(wire.DecisionKind(kind))
}

func (st *evalState) sinceSent(kind string) float64 {
	s, ok := st.o.Sent.Get(wire.DecisionKind(kind))
	if !ok {
		return never
	}
	return st.t.Now.Sub(s.At).Seconds()
}

// predictedReady is when the order is expected ready.
func (st *evalState) predictedReady() time.Time {
	return st.t.Now.Add(st.remaining())
}

// remaining is the median time left: of the order's service when the
// kitchen queue has an opinion on it, else the model's.
func (st *evalState) remaining() time.Duration {
	if r, ok := st.queue.remaining(st.o.ID, st.t.Now); ok {
		return r
	}
	return st.pred.Remaining(st.elapsed)
}

// lastTold is the ready time of the most recent decision among kinds.
func (st *evalState) lastTold(kinds ...wire.DecisionKind) (time.Time, bool) {
	var best agent.Sent
	found := false
	for _, k := range kinds {
		s, ok := st.o.Sent.Get(k)
		if ok && !s.ETA.IsZero() && (!found || s.At.After(best.At)) {
			best, found = s, true
		}
	}
	return best.ETA, found
}

func (st *evalState) slip() float64 {
	told, ok := st.lastTold(wire.KindReadySoon, wire.KindDelayed)
	if !ok || !st.hasPred {
		return 0
	}
	return st.predictedReady().Sub(told).Seconds()
}

func (st *evalState) etaMoved() float64 {
	told, ok := st.lastTold(wire.KindETA, wire.KindReadySoon, wire.KindDelayed)
	if !ok || !st.hasPred {
		return never
	}
	return math.Abs(st.predictedReady().Sub(told).Seconds())
}

// facts are what a ready decision tells the cloud of the order for the
// fleet prior's fit; nil for an order without a ticket.
func (st *evalState) facts() *wire.OrderFacts {
	if !st.o.TicketSeen {
		return nil
	}
	return &wire.OrderFacts{Items: st.o.ItemCount(), Distinct: len(st.o.Items), Subtotal: st.o.Subtotal,
		Station: st.o.Station, Category: st.tags.Category, City: st.tags.City}
}

// decision builds the decision a rule asks for and records it as sent.
func (st *evalState) decision(r agent.Rule, kitchen bool, p agent.Params) wire.Decision {
	ttl := TTLAdvisory
	if r.Emit.Critical() {
		ttl = TTLCritical
	}
	d := agent.NewDecision(st.o, r.Emit, st.t.Now, ttl)
	// Number per kind, so the first ready is always {store}.{order}.ready.1
	// whatever countdowns came before it. The id is stored with the
	// decision in the outbox, so retries and replays keep it.
	d.ID = fmt.Sprintf("%s.%s.%s.%d", st.o.Store, st.o.ID, r.Emit, st.o.Sent.Count(r.Emit)+1)
	d.Rule = r.Name
	if st.env.Started {
		d.Flags = append(d.Flags, wire.FlagCookStart)
	}
	if st.t.Event != nil {
		if kitchen {
			d.EventID = st.t.Event.ID
		}
		if d.TraceID == "" {
			d.TraceID = st.t.Event.TraceID
		}
	}
	switch {
	case r.Emit == wire.KindReady:
		d.Probability = 1
		now := st.t.Now
		d.ETA = &now
		d.Order = st.facts()
		if at := st.t.Event.At; !st.o.AcceptedAt.IsZero() && at.Sub(st.o.AcceptedAt) < EarlyReady {
			d.Flags = append(d.Flags, wire.FlagEarlyReady)
		}
	case st.hasPred && r.Emit != wire.KindCancelled:
		eta := st.predictedReady()
		d.ETA = &eta
		d.Probability = st.pReady(st.lead.Seconds())
	}
	st.o.MarkSent(d)
	return d
}
