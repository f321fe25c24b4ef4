package rules_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/rules"
	"github.com/passline/passline/wire"
)

// The model must learn from a completed order exactly what it saw of it
// when it predicted: live features and history features agree.
func TestLiveAndHistoryFeaturesAgree(t *testing.T) {
	acc := time.Date(2026, 3, 7, 19, 12, 0, 0, time.UTC)
	o := &agent.Order{Store: "s1", ID: "o1", Status: wire.StatusPickedUp, TicketSeen: true, Station: "wok",
		AcceptedAt: acc, DoneAt: acc.Add(9 * time.Minute), Load: agent.Load{OpenOrders: 4, OpenItems: 9, StationOrders: 2}, Subtotal: 23.5,
		Items: []wire.Item{{SKU: "rice", Qty: 2, Station: "wok"}, {SKU: "tea", Qty: 1, Station: "drinks"}, {SKU: "rice", Qty: 1, Station: "wok"}}}
	live := rules.OrderFeatures(o)
	rec := agent.NewHistoryRecord(o, acc.Add(20*time.Minute))
	learned := rules.RecordFeatures(&rec)
	if !reflect.DeepEqual(live, learned) {
		t.Errorf("live features %+v\nhistory features %+v", live, learned)
	}
	if live.Items != 4 || live.Distinct != 2 || len(live.SKUs) != 2 || live.SKUs[0].Qty != 3 || live.StationOpen != 2 || live.Value != 23.5 {
		t.Errorf("features %+v", live)
	}
}
