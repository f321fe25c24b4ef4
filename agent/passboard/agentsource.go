package passboard

import (
	"context"
	"encoding"
	"sort"
	"sync"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/bolt"
	"github.com/passline/passline/agent/kpisync"
	"github.com/passline/passline/agent/predict"
	"github.com/passline/passline/agent/rules"
)

var (
	_ Source  = (*AgentSource)(nil)
	_ StateDB = (*bolt.DB)(nil)
)

// StateDB is what AgentSource reads from the agent's state db.
type StateDB interface {
	View(fn func(*bolt.Tx) error) error
	Stats() (bolt.Stats, error)
	Rejects(n int) ([]agent.Reject, error)
	PeekOutbox(n int) ([]agent.Entry, error)
	HistoryNewestFirst(fn func(agent.HistoryRecord) bool) error
}

// maxQueuedShown bounds the outbox entries read per board to mark what is
// still waiting; beyond it, older-than-shown decisions look sent.
const maxQueuedShown = 1000

// AgentSource builds boards from the agent's state db: open orders and
// what their riders were told from short read transactions, predictions
// from a copy of the store's model taken at most every ModelEvery.
type AgentSource struct {
	Store string
	DB    StateDB
	// Model is the agent's decider when it can hand out its prep-time
	// model (rules.Engine can); nil means no predictions on the board.
	Model encoding.BinaryMarshaler
	// LeadTime is the rider travel time used for the board's P(ready).
	LeadTime time.Duration
	// Links reports the connections' states; nil means none shown.
	Links func() []Link
	// Devices reports device health; nil means the board says it is not tracked.
	Devices func() []Device
	// Rider reports riders' waits today as the cloud knows them
	// (kpisync.Poller.Today); nil means the board shows no rider side.
	Rider func() *kpisync.Today
	// Rejects is how many recent rejects to show; 0 means 5.
	Rejects    int
	ModelEvery time.Duration // 0 means 10 s
	// TodayEvery is how often today's counts are recomputed from the
	// state db; 0 means 30 s.
	TodayEvery time.Duration
	Now        func() time.Time

	mu      sync.Mutex
	model   *predict.Model
	modelAt time.Time
	today   *Today
	todayAt time.Time
}

// Board implements Source.
func (s *AgentSource) Board(ctx context.Context) (Board, error) {
	now := time.Now()
	if s.Now != nil {
		now = s.Now()
	}
	b := Board{Store: s.Store, Now: now, Stations: []Station{}, Links: []Link{}, Rejects: []Reject{}}
	st, err := s.DB.Stats()
	if err != nil {
		return Board{}, err
	}
	b.Outbox = Outbox{Depth: st.Outbox}
	if !st.OutboxOldest.IsZero() {
		b.Outbox.OldestAgeS = now.Sub(st.OutboxOldest).Seconds()
	}
	var orders []*agent.Order
	if err := s.DB.View(func(tx *bolt.Tx) error {
		orders, err = tx.Orders()
		return err
	}); err != nil {
		return Board{}, err
	}
	queued := map[string]bool{}
	if b.Outbox.Depth > 0 {
		es, err := s.DB.PeekOutbox(maxQueuedShown)
		if err != nil {
			return Board{}, err
		}
		for _, e := range es {
			queued[e.Decision.ID] = true
		}
	}
	s.mu.Lock() // predict.Model is not safe for concurrent use
	b.Stations = s.stations(orders, queued, now)
	s.mu.Unlock()
	if err := s.rejects(&b); err != nil {
		return Board{}, err
	}
	if b.Today, err = s.currentToday(orders, now); err != nil {
		return Board{}, err
	}
	if s.Links != nil {
		b.Links = s.Links()
	}
	if s.Devices != nil {
		b.Devices = s.Devices()
	}
	return b, ctx.Err()
}

func (s *AgentSource) rejects(b *Board) error {
	n := s.Rejects
	if n <= 0 {
		n = 5
	}
	rs, err := s.DB.Rejects(n)
	if err != nil {
		return err
	}
	for _, r := range rs {
		b.Rejects = append(b.Rejects, Reject{At: r.At, Reason: r.Reason, Detail: r.Detail})
	}
	return nil
}

// stations groups open orders by station, oldest first; orders with no
// station go under "kitchen".
func (s *AgentSource) stations(orders []*agent.Order, queued map[string]bool, now time.Time) []Station {
	model := s.currentModel(now)
	by := map[string][]Order{}
	for _, o := range orders {
		if !o.Open() {
			continue
		}
		name := o.Station
		if name == "" {
			name = "kitchen"
		}
		by[name] = append(by[name], s.order(o, model, queued, now))
	}
	out := make([]Station, 0, len(by))
	for name, os := range by {
		sort.Slice(os, func(i, j int) bool {
			if !os[i].AcceptedAt.Equal(os[j].AcceptedAt) {
				return os[i].AcceptedAt.Before(os[j].AcceptedAt)
			}
			return os[i].ID < os[j].ID
		})
		out = append(out, Station{Name: name, Orders: os})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *AgentSource) order(o *agent.Order, model *predict.Model, queued map[string]bool, now time.Time) Order {
	v := Order{ID: o.ID, ShortCode: o.ShortCode, Status: string(o.Status), Items: o.ItemCount(),
		AcceptedAt: o.AcceptedAt, Told: told(o, queued), TraceID: o.TraceID, Marked: o.Marked}
	if !o.AcceptedAt.IsZero() {
		v.ElapsedS = max(now.Sub(o.AcceptedAt), 0).Seconds()
	}
	cooking := o.Status == "accepted" || o.Status == "started"
	if model != nil && cooking && o.TicketSeen && !o.AcceptedAt.IsZero() {
		f := rules.OrderFeatures(o)
		p := model.Predict(&f)
		elapsed := max(now.Sub(o.AcceptedAt), 0)
		lead := s.LeadTime
		if o.LeadTime > 0 {
			lead = o.LeadTime
		}
		at := func(q float64) time.Time { return o.AcceptedAt.Add(p.Quantile(q, elapsed)).Round(time.Second) }
		v.Prediction = &Prediction{ReadyAt: at(0.5), Early: at(0.1), Late: at(0.9), PReady: p.PReady(elapsed, lead)}
	}
	return v
}

func told(o *agent.Order, queued map[string]bool) []Told {
	out := []Told{}
	for kind, sent := range o.Sent.All() {
		t := Told{Kind: string(kind), At: sent.At, Count: sent.Count, Queued: queued[sent.ID], Withdrawn: sent.Withdrawn}
		if !sent.ETA.IsZero() {
			eta := sent.ETA
			t.ETA = &eta
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}

// currentToday returns today's counts, recomputed at most every
// TodayEvery, with the rider side as last read from the cloud.
func (s *AgentSource) currentToday(open []*agent.Order, now time.Time) (*Today, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.today == nil || now.Sub(s.todayAt) >= or(s.TodayEvery, 30*time.Second) || now.Day() != s.todayAt.Day() {
		t, err := localToday(s.DB, open, now)
		if err != nil {
			return nil, err
		}
		s.today, s.todayAt = &t, now
	}
	t := *s.today
	if s.Rider != nil {
		t.Rider = s.Rider()
	}
	return &t, nil
}

// currentModel returns a copy of the store's model, refreshed from Model
// at most every ModelEvery; nil when there is none. s.mu must be held.
func (s *AgentSource) currentModel(now time.Time) *predict.Model {
	if s.Model == nil {
		return nil
	}
	if s.model != nil && now.Sub(s.modelAt) < or(s.ModelEvery, 10*time.Second) {
		return s.model
	}
	b, err := s.Model.MarshalBinary()
	if err != nil {
		return s.model
	}
	m := predict.New()
	if err := m.UnmarshalBinary(b); err != nil {
		return s.model
	}
	s.model, s.modelAt = m, now
	return m
}
