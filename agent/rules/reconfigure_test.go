package rules_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/predict"
	"github.com/passline/passline/agent/rules"
	"github.com/passline/passline/wire"
)

func TestReconfigureKeepsModelAndRefusesBadRules(t *testing.T) {
	probe := []agent.Rule{{Name: "probe", When: `lead_time >= 600 && !sent("eta")`, Emit: wire.KindETA}}
	e, err := rules.New(agent.DefaultParams(), probe)
	if err != nil {
		t.Fatal(err)
	}
	train(e, time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), 40, 8*time.Minute)
	learned := e.Learned()
	fires := func() bool {
		now := time.Now()
		o := &agent.Order{Store: "s1", ID: "o" + now.Format("150405.000000000"), Status: wire.StatusAccepted, TicketSeen: true, AcceptedAt: now.Add(-time.Minute)}
		return len(e.Decide(o, agent.Trigger{Now: now})) == 1
	}
	if fires() {
		t.Fatal("probe fired at lead_time 5m")
	}
	p := agent.DefaultParams()
	p.LeadTime = 12 * time.Minute
	if err := e.Reconfigure(p, probe); err != nil {
		t.Fatal(err)
	}
	if !fires() || e.Params().LeadTime != 12*time.Minute || e.Learned() != learned {
		t.Fatalf("after reconfigure: fires=%v params=%+v learned %d→%d", fires(), e.Params(), learned, e.Learned())
	}
	err = e.Reconfigure(agent.DefaultParams(), []agent.Rule{{Name: "bad", When: "lead_time >=", Emit: wire.KindETA}})
	var re *rules.RuleError
	if !errors.As(err, &re) || re.Name != "bad" || re.Line != 1 {
		t.Fatalf("bad rule: %v", err)
	}
	if !fires() || e.Params().LeadTime != 12*time.Minute {
		t.Fatal("refused reconfigure changed the engine")
	}
}

// TestSetPriorAppliesStoreCity: a fleet prior's offset for the store's
// city moves the engine's prior; a city the prior does not know leaves it.
func TestSetPriorAppliesStoreCity(t *testing.T) {
	p := predict.DefaultPrior()
	p.Cities = map[string]float64{"slow": 0.2}
	for city, want := range map[string]float64{"slow": p.Beta[0] + 0.2, "other": p.Beta[0], "": p.Beta[0]} {
		e, err := rules.New(agent.DefaultParams(), nil)
		if err != nil {
			t.Fatal(err)
		}
		e.SetStoreTags(rules.StoreTags{Category: "thai", City: city})
		if err := e.SetPrior(p); err != nil {
			t.Fatal(err)
		}
		if got := e.Prior().Beta[0]; math.Abs(got-want) > 1e-12 {
			t.Errorf("city %q: prior intercept %v, want %v", city, got, want)
		}
	}
}
