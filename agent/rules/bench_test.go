package rules_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/rules"
	"github.com/passline/passline/wire"
)

// BenchmarkTick5000 is one retry_interval re-evaluation of 5,000 open
// orders with the default rules and a trained model, the work the agent's
// writer does every 30 s inside one transaction.
func BenchmarkTick5000(b *testing.B) {
	e, err := rules.New(agent.DefaultParams(), nil)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2026, 3, 2, 12, 0, 0, 0, time.Local)
	train(e, start.Add(-30*24*time.Hour), 2000, 9*time.Minute)
	orders := make([]*agent.Order, 5000)
	for i := range orders {
		orders[i] = &agent.Order{Store: "s1", ID: fmt.Sprint("o", i), Status: wire.StatusStarted, TicketSeen: true,
			AcceptedAt: start.Add(-time.Duration(i%900) * time.Second), Station: "grill", Load: agent.Load{OpenOrders: 8, OpenItems: 20},
			Items: []wire.Item{{SKU: "burger", Qty: 2}, {SKU: "fries", Qty: 1}}}
	}
	now := start
	b.ResetTimer()
	decisions := 0
	for i := 0; i < b.N; i++ {
		now = now.Add(30 * time.Second)
		for _, o := range orders {
			decisions += len(e.Decide(o, agent.Trigger{Now: now}))
		}
	}
	b.ReportMetric(float64(decisions)/float64(b.N), "decisions/tick")
}
