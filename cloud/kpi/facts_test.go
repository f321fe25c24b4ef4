package kpi_test

import (
	"testing"
	"time"

	"github.com/passline/passline/cloud/kpi"
	"github.com/passline/passline/wire"
)

// TestPromisedIsWhatTheRiderWasTold: the window of a ready_soon is the
// whole minutes the relay renders ("about N min", rounded up), at least
// one; without an ETA, the default lead time.
func TestPromisedIsWhatTheRiderWasTold(t *testing.T) {
	decided := at("11:00:00")
	for _, tc := range []struct {
		eta  string
		want time.Duration
	}{
		{"11:03:00", 3 * time.Minute},
		{"11:02:30", 3 * time.Minute}, // "about 3 min"
		{"11:00:10", time.Minute},
		{"10:59:00", time.Minute}, // already late when decided: "about 0 min", judged against 1
		{"", kpi.DefaultWindow},
	} {
		p := kpi.Prediction{Kind: wire.KindReadySoon, At: decided}
		if tc.eta != "" {
			p.ETA = at(tc.eta)
		}
		if got := kpi.Promised(p); got != tc.want {
			t.Errorf("eta %q: promised %s, want %s", tc.eta, got, tc.want)
		}
	}
}

// TestEarlyReadyWithoutTheFlag: a ready 50 s after the kitchen accepted is
// too early even when the agent did not flag it (an older agent); a
// cancelled order contributes nothing but its count.
func TestEarlyReadyWithoutTheFlag(t *testing.T) {
	var f kpi.Facts
	f.ApplyDecision(wire.Decision{ID: "d1", Store: "s", OrderID: "o", Kind: wire.KindReady, EventID: "e",
		AcceptedAt: at("11:00:00"), CreatedAt: at("11:00:50")})
	if c := f.Contribution(); !c.Ready || !c.Early {
		t.Fatalf("contribution %+v, want ready and early", c)
	}
	f.ApplyDecision(wire.Decision{ID: "d2", Store: "s", OrderID: "o", Kind: wire.KindCancelled, CreatedAt: at("11:01:00")})
	if c := f.Contribution(); !c.Cancelled || c.Ready || c.Early || c.Decisions != 2 {
		t.Fatalf("cancelled contribution %+v", c)
	}
	if f.ApplyDecision(wire.Decision{ID: "d2", Store: "s", OrderID: "o", Kind: wire.KindCancelled}) {
		t.Fatal("the same decision applied twice changed the facts")
	}
}
