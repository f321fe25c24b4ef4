package rules_test

import (
	"encoding"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/rules"
	"github.com/passline/passline/wire"
)

type storeConfig struct {
	Params agent.Params `yaml:"params"`
	Rules  []agent.Rule `yaml:"rules"`
}

func loadConfig(t *testing.T, path string) storeConfig {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var c storeConfig
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

func TestDefaultRulesCompile(t *testing.T) {
	if _, err := rules.Compile(rules.DefaultRules()); err != nil {
		t.Fatal(err)
	}
}

func TestBrokenRuleRefused(t *testing.T) {
	c := loadConfig(t, "testdata/broken.yaml")
	_, err := rules.New(c.Params, c.Rules)
	if err == nil {
		t.Fatal("a rule with an unknown name compiled")
	}
	var re *rules.RuleError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not a *RuleError", err)
	}
	if re.Name != "typo" || re.Index != 1 || re.Line != 1 || re.Column != 34 || !strings.Contains(re.Reason, "confidense_threshold") {
		t.Errorf("refusal = %+v, want rule typo, line 1, column 34, naming the unknown variable", re)
	}
	msg := err.Error()
	for _, want := range []string{`"typo"`, "line 1, column 34", "confidense_threshold"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
}

func TestCompileRefusals(t *testing.T) {
	tests := []struct {
		name string
		rule agent.Rule
		want string
	}{
		{"syntax", agent.Rule{Name: "s", Emit: wire.KindETA, When: `cooking &&`}, `"s": line 1`},
		{"not bool", agent.Rule{Name: "n", Emit: wire.KindETA, When: `elapsed + 1`}, "bool"},
		{"wrong arg type", agent.Rule{Name: "w", Emit: wire.KindETA, When: `p_ready("5m") > 0.5`}, "string"},
		{"unknown kind", agent.Rule{Name: "k", Emit: "party", When: `true`}, `emit "party"`},
		{"timer ready", agent.Rule{Name: "guess", Emit: wire.KindReady, When: `p_ready(60) > 0.99`}, "only a real bump"},
		{"empty", agent.Rule{Name: "e", Emit: wire.KindETA, When: ` `}, "when is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rules.Compile([]agent.Rule{tt.rule})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Compile(%q) error = %v, want one containing %q", tt.rule.When, err, tt.want)
			}
		})
	}
	_, err := rules.Compile([]agent.Rule{{Name: "a", Emit: wire.KindETA, When: "true"}, {Name: "a", Emit: wire.KindETA, When: "true"}})
	if err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Errorf("duplicate names: %v", err)
	}
}

// kitchen scripts one store: a trained engine, a clock, orders and events.
type kitchen struct {
	t     *testing.T
	e     *rules.Engine
	now   time.Time
	seq   int
	out   []wire.Decision
	order map[string]*agent.Order
}

func newKitchen(t *testing.T, c storeConfig, prep time.Duration) *kitchen {
	e, err := rules.New(c.Params, c.Rules)
	if err != nil {
		t.Fatal(err)
	}
	k := &kitchen{t: t, e: e, now: time.Date(2026, 3, 2, 12, 0, 0, 0, time.Local), order: map[string]*agent.Order{}}
	train(e, k.now.Add(-30*24*time.Hour), 600, prep)
	return k
}

// train teaches e n orders of two items whose prep time is about prep (±10%).
func train(e *rules.Engine, start time.Time, n int, prep time.Duration) {
	for i := 0; i < n; i++ {
		acc := start.Add(time.Duration(i) * 17 * time.Minute)
		jitter := 0.9 + 0.2*float64((i*7919)%100)/100
		ready := acc.Add(time.Duration(float64(prep) * jitter))
		e.Learn(agent.HistoryRecord{Store: "s1", OrderID: fmt.Sprint("h", i), Status: wire.StatusPickedUp,
			AcceptedAt: acc, ReadyAt: ready, Items: 2, Distinct: 2, SKUs: []string{"burger", "fries"}, Station: "grill"})
	}
}

func (k *kitchen) decide(o *agent.Order, ev *wire.Event, from wire.OrderStatus) []wire.Decision {
	ds := k.e.Decide(o, agent.Trigger{Now: k.now, Event: ev, From: from})
	for _, d := range ds {
		if err := d.Validate(); err != nil {
			k.t.Errorf("decision %s is invalid: %v", d.ID, err)
		}
	}
	k.out = append(k.out, ds...)
	return ds
}

func (k *kitchen) event(kind wire.EventKind) *wire.Event {
	k.seq++
	return &wire.Event{V: 1, ID: fmt.Sprint("ev", k.seq), Kind: kind, Store: "s1", DeviceID: "d1", At: k.now}
}

func (k *kitchen) ticket(id string) *agent.Order {
	o := &agent.Order{Store: "s1", ID: id, Status: wire.StatusAccepted, TicketSeen: true, AcceptedAt: k.now, Station: "grill",
		Items: []wire.Item{{SKU: "burger", Qty: 1, Station: "grill"}, {SKU: "fries", Qty: 1, Station: "fryer"}}}
	k.order[id] = o
	k.decide(o, k.event(wire.EventTicket), "")
	return o
}

func (k *kitchen) move(o *agent.Order, to wire.OrderStatus, kind wire.EventKind) []wire.Decision {
	from := o.Status
	o.Status = to
	return k.decide(o, k.event(kind), from)
}

// tick advances the clock by d and evaluates every open order.
func (k *kitchen) tick(d time.Duration) {
	k.now = k.now.Add(d)
	for _, o := range k.order {
		if o.Open() {
			k.decide(o, nil, "")
		}
	}
}

func kinds(ds []wire.Decision, order string) []wire.DecisionKind {
	var out []wire.DecisionKind
	for _, d := range ds {
		if d.OrderID == order {
			out = append(out, d.Kind)
		}
	}
	return out
}

func TestScriptedKitchen(t *testing.T) {
	k := newKitchen(t, loadConfig(t, "testdata/store.yaml"), 8*time.Minute)
	k.e.SetStoreTags(rules.StoreTags{Category: "thai", City: "bkk"})
	a := k.ticket("A")
	got := kinds(k.out, "A")
	if len(got) != 1 || got[0] != wire.KindETA {
		t.Fatalf("at accept: %v, want one eta (8 min is inside the 15 min window)", got)
	}
	if eta := *k.out[0].ETA; eta.Sub(k.now) < 6*time.Minute || eta.Sub(k.now) > 10*time.Minute {
		t.Errorf("first eta %s from now, want about 8 min", eta.Sub(k.now))
	}
	var readySoonAt time.Duration
	for i := 1; i <= 16; i++ { // 8 minutes of 30 s ticks, on time
		k.tick(30 * time.Second)
		for _, d := range k.out {
			if d.Kind == wire.KindReady {
				t.Fatalf("a timer emitted ready: %+v", d)
			}
			if d.Kind == wire.KindReadySoon && readySoonAt == 0 {
				readySoonAt = time.Duration(i) * 30 * time.Second
				if d.Probability < 0.85 {
					t.Errorf("ready_soon with probability %.2f", d.Probability)
				}
			}
		}
	}
	// With 8±0.8 min prep and a 5 min lead time, P(ready within 5 min) reaches
	// 0.85 somewhere after 3.5 min and well before 8.
	if readySoonAt < 3*time.Minute || readySoonAt > 7*time.Minute {
		t.Errorf("ready_soon after %s, want between 3 and 7 min", readySoonAt)
	}
	n := len(kinds(k.out, "A"))
	if ds := k.move(a, wire.StatusDone, wire.EventKey); len(ds) != 1 || ds[0].Kind != wire.KindReady || ds[0].EventID == "" {
		t.Fatalf("bump: %+v, want one ready naming its event", ds)
	} else if len(ds[0].Flags) != 0 {
		t.Errorf("ready 8 min after its ticket flagged %v", ds[0].Flags)
	} else if f := ds[0].Order; f == nil || f.Items != a.ItemCount() || f.Category != "thai" || f.City != "bkk" || ds[0].AcceptedAt.IsZero() {
		t.Errorf("ready carries order facts %+v and accept time %v, want the items and the store's tags for the fleet fit", f, ds[0].AcceptedAt)
	}
	if ds := k.move(a, wire.StatusPacked, wire.EventWeight); len(ds) != 0 {
		t.Errorf("pack after bump: %v, want nothing (ready already sent)", kinds(ds, "A"))
	}
	k.tick(time.Minute)
	if got := kinds(k.out, "A"); len(got) != n+1 {
		t.Errorf("after ready: %v, want nothing more", got[n:])
	}
	ids := map[string]bool{}
	var seq uint64
	for _, d := range k.out {
		// Seq is the rider card's version: one order's decisions, eta,
		// ready_soon and ready alike, carry 1, 2, 3, ... in decision order.
		if d.OrderID == "A" {
			if d.Seq != seq+1 {
				t.Errorf("decision %s has seq %d after %d, want %d", d.ID, d.Seq, seq, seq+1)
			}
			seq = d.Seq
		}
		if ids[d.ID] {
			t.Errorf("duplicate decision id %s", d.ID)
		}
		ids[d.ID] = true
		if !strings.HasPrefix(d.ID, "s1.A.") {
			t.Errorf("id %s is not {store}.{order}.{kind}.{seq}", d.ID)
		}
	}
}

func TestScriptedKitchenLateAndCancelled(t *testing.T) {
	k := newKitchen(t, loadConfig(t, "testdata/store.yaml"), 8*time.Minute)
	late := k.ticket("L")
	k.ticket("C")
	k.tick(30 * time.Second)
	c := k.order["C"]
	if ds := k.move(c, wire.StatusCancelled, wire.EventPOS); len(ds) != 1 || ds[0].Kind != wire.KindCancelled {
		t.Fatalf("cancel: %v", kinds(ds, "C"))
	}
	delete(k.order, "C")
	for i := 0; i < 40; i++ { // 20 minutes; the kitchen forgot L
		k.tick(30 * time.Second)
	}
	got := kinds(k.out, "L")
	count := map[wire.DecisionKind]int{}
	for _, kd := range got {
		count[kd]++
	}
	if count[wire.KindReadySoon] != 1 || count[wire.KindDelayed] < 1 || count[wire.KindReady] != 0 {
		t.Errorf("late order decisions %v: want one ready_soon, at least one delayed, no ready", got)
	}
	if count[wire.KindETA] > 25 {
		t.Errorf("%d eta updates in 20 min: countdown must move by a minute to be sent", count[wire.KindETA])
	}
	// A bump 30 s after the ticket is flagged early.
	e := k.ticket("E")
	k.now = k.now.Add(30 * time.Second)
	ds := k.move(e, wire.StatusDone, wire.EventKey)
	if len(ds) != 1 || len(ds[0].Flags) != 1 || ds[0].Flags[0] != wire.FlagEarlyReady {
		t.Errorf("ready 30 s after ticket: %+v, want flag %s", ds, wire.FlagEarlyReady)
	}
	t.Logf("late order: %v", got)
	_ = late
}

func TestReadyNeedsKitchenEvent(t *testing.T) {
	// A rule that references the event but would fire on a tick anyway is
	// caught at run time: no ready without a transition to done/packed.
	e, err := rules.New(agent.DefaultParams(), []agent.Rule{{Name: "sneaky", Emit: wire.KindReady, When: `event.kind == "" || transition != ""`}})
	if err != nil {
		t.Fatal(err)
	}
	o := &agent.Order{Store: "s1", ID: "X", Status: wire.StatusDone, TicketSeen: true, AcceptedAt: time.Now().Add(-10 * time.Minute)}
	if ds := e.Decide(o, agent.Trigger{Now: time.Now()}); len(ds) != 0 {
		t.Errorf("timer produced %v", ds)
	}
	if e.BlockedReady() != 1 {
		t.Errorf("BlockedReady = %d, want 1", e.BlockedReady())
	}
}

func TestModelRoundTrip(t *testing.T) {
	c := loadConfig(t, "testdata/store.yaml")
	e, _ := rules.New(c.Params, c.Rules)
	train(e, time.Now().Add(-240*time.Hour), 200, 12*time.Minute)
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	e2, _ := rules.New(c.Params, c.Rules)
	if err := e2.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if e2.Learned() != 200 {
		t.Errorf("restored model learned %d, want 200", e2.Learned())
	}
	if err := e2.UnmarshalBinary([]byte("{garbage")); err == nil {
		t.Error("garbage accepted")
	}
}

// The engine plugs into the agent's writer: it decides, learns, and its
// model is saved and restored through the state db.
var (
	_ agent.Decider              = (*rules.Engine)(nil)
	_ agent.Learner              = (*rules.Engine)(nil)
	_ encoding.BinaryMarshaler   = (*rules.Engine)(nil)
	_ encoding.BinaryUnmarshaler = (*rules.Engine)(nil)
)

func TestFailingRuleIsSkippedAndCounted(t *testing.T) {
	e, err := rules.New(agent.DefaultParams(), []agent.Rule{
		{Name: "bad-index", Emit: wire.KindETA, When: `[1, 2][order.items + 5] > 0`},
		{Name: "cancel", Emit: wire.KindCancelled, When: `status == "cancelled"`},
	})
	if err != nil {
		t.Fatal(err)
	}
	o := &agent.Order{Store: "s1", ID: "X", Status: wire.StatusCancelled, TicketSeen: true}
	ds := e.Decide(o, agent.Trigger{Now: time.Now()})
	if len(ds) != 1 || ds[0].Kind != wire.KindCancelled || e.FailedEvals() != 1 {
		t.Errorf("decisions %v, failed evals %d: want the cancel and one failure", ds, e.FailedEvals())
	}
}

func TestLearnsOnceAtReady(t *testing.T) {
	e, _ := rules.New(agent.DefaultParams(), nil)
	acc := time.Now().Add(-9 * time.Minute)
	o := &agent.Order{Store: "s1", ID: "R", Status: wire.StatusStarted, TicketSeen: true, AcceptedAt: acc,
		Items: []wire.Item{{SKU: "x", Qty: 1}}}
	o.Status, o.DoneAt = wire.StatusDone, acc.Add(8*time.Minute)
	e.Decide(o, agent.Trigger{Now: o.DoneAt, From: wire.StatusStarted, Event: &wire.Event{ID: "b1", Kind: wire.EventKey, At: o.DoneAt}})
	if e.Learned() != 1 {
		t.Fatalf("after the bump the model learned %d orders, want 1", e.Learned())
	}
	o.Status = wire.StatusPickedUp
	e.Learn(agent.NewHistoryRecord(o, time.Now()))
	if e.Learned() != 1 {
		t.Errorf("closing the order learned it again: %d", e.Learned())
	}
	other := agent.NewHistoryRecord(&agent.Order{Store: "s1", ID: "Q", Status: wire.StatusPickedUp, TicketSeen: true,
		AcceptedAt: acc, DoneAt: acc.Add(5 * time.Minute)}, time.Now())
	e.Learn(other)
	e.Learn(other) // a retried transaction
	if e.Learned() != 2 {
		t.Errorf("learned %d, want 2", e.Learned())
	}
}

// TestCookStartFlagged: with the default rules, the start key on an order
// whose eta is beyond the prediction window (so the eta rule stays quiet)
// still makes one eta, flagged cook_start and naming the start event; a
// timer tick afterwards flags nothing.
func TestCookStartFlagged(t *testing.T) {
	k := newKitchen(t, storeConfig{Params: agent.DefaultParams(), Rules: rules.DefaultRules()}, 25*time.Minute)
	o := k.ticket("S")
	if n := len(kinds(k.out, "S")); n != 0 {
		t.Fatalf("at accept (25 min prep, 15 min window): %d decisions, want none", n)
	}
	k.now = k.now.Add(2 * time.Minute)
	ds := k.move(o, wire.StatusStarted, wire.EventKey)
	if len(ds) != 1 || ds[0].Kind != wire.KindETA || ds[0].EventID == "" || !slices.Contains(ds[0].Flags, wire.FlagCookStart) || ds[0].ETA == nil {
		t.Fatalf("start key: %+v, want one eta flagged %s with the start event and an eta", ds, wire.FlagCookStart)
	}
	k.tick(30 * time.Second)
	for _, d := range k.out[1:] {
		if slices.Contains(d.Flags, wire.FlagCookStart) {
			t.Errorf("decision %s after the start flagged cook_start", d.ID)
		}
	}
}

// TestPredictionNamesNoEvent: a prediction rule that fires while a kitchen
// event is evaluated (ready_soon at the ticket of a 2-minute order) names
// no event, so no platform takes it for the kitchen's ready soon; the
// kitchen-driven decisions (cook_start, ready) name theirs.
func TestPredictionNamesNoEvent(t *testing.T) {
	k := newKitchen(t, storeConfig{Params: agent.DefaultParams(), Rules: rules.DefaultRules()}, 2*time.Minute)
	o := k.ticket("P")
	k.move(o, wire.StatusStarted, wire.EventKey)
	k.now = k.now.Add(2 * time.Minute)
	k.move(o, wire.StatusDone, wire.EventKey)
	byKind := map[wire.DecisionKind]wire.Decision{}
	for _, d := range k.out {
		byKind[d.Kind] = d
		if d.Kind == wire.KindReadySoon && d.EventID != "" {
			t.Errorf("predicted ready_soon %s names event %s", d.ID, d.EventID)
		}
	}
	if _, ok := byKind[wire.KindReadySoon]; !ok {
		t.Fatalf("no ready_soon for a 2-minute order: %v", kinds(k.out, "P"))
	}
	if d := byKind[wire.KindReady]; d.EventID == "" {
		t.Errorf("ready %+v names no event", d)
	}
}
