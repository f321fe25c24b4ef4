package natsjs

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/passline/passline/wire"
)

// TestOrderStateAppendJSON: the order view's hand-written JSON is what
// json.Marshal writes.
func TestOrderStateAppendJSON(t *testing.T) {
	eta := time.Date(2026, 12, 4, 16, 30, 0, 5, time.FixedZone("", 3600))
	for _, st := range []OrderState{
		{},
		{Store: "s1", OrderID: "o<1>", ShortCode: "A&1", Status: wire.KindReadySoon, ETA: &eta, Probability: 0.87,
			DecisionID: "s1.o1.eta.2 \u2028", DecidedAt: eta.UTC()},
		{Store: "s", OrderID: "o", Status: wire.KindETA, Probability: 1e-9, DecidedAt: time.Unix(1, 0)},
		{Probability: math.NaN()},
		{DecidedAt: time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		want, err := json.Marshal(st)
		got, ok := st.appendJSON(nil)
		if err != nil {
			if ok {
				t.Errorf("json.Marshal fails (%v), appendJSON wrote %s", err, got)
			}
			continue
		}
		if !ok || string(got) != string(want) {
			t.Errorf("appendJSON (ok %v) %s\njson.Marshal     %s", ok, got, want)
		}
	}
}
