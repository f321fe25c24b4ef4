package rules_test

import (
	"fmt"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/rules"
	"github.com/passline/passline/wire"
)

func ExampleCompile() {
	_, err := rules.Compile([]agent.Rule{
		{Name: "early_eta", Emit: wire.KindETA, When: `cooking && eta < 10*60`},
		{Name: "guess_ready", Emit: wire.KindReady, When: `elapsed > 15*60`},
		{Name: "typo", Emit: wire.KindReadySoon, When: `p_ready(lead_time) >= confidence`},
	})
	fmt.Println(err)
	// Output:
	// rules[1] "guess_ready": emits ready but its condition does not depend on the kitchen event: only a real bump, pack or scan may report ready; use transition (e.g. transition in ["done", "packed"])
	// rules[2] "typo": line 1, column 23: unknown name confidence
}
