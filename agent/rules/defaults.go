package rules

import (
	"github.com/passline/passline/agent"
	"github.com/passline/passline/wire"
)

// DefaultRules implement the product's flow with its parameters. They are
// evaluated in this order; each fires at most once per evaluation.
func DefaultRules() []agent.Rule {
	return []agent.Rule{
		{Name: "cancelled", Emit: wire.KindCancelled, When: `status == "cancelled" && !sent("cancelled")`},
		{Name: "ready", Emit: wire.KindReady, When: `transition in ["done", "packed"] && !sent("ready")`},
		{Name: "cook_start", Emit: wire.KindETA, When: `started && !sent("eta")`},
		{Name: "delayed", Emit: wire.KindDelayed, When: `cooking && sent("ready_soon") && slip() >= 180`},
		{Name: "ready_soon", Emit: wire.KindReadySoon, When: `cooking && !sent("ready_soon") && p_ready(lead_time) >= confidence_threshold`},
		{Name: "eta", Emit: wire.KindETA, When: `cooking && eta <= prediction_window && eta_moved() >= 60`},
	}
}
