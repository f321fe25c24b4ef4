package passboard_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/bolt"
	"github.com/passline/passline/agent/passboard"
	"github.com/passline/passline/agent/rules"
	"github.com/passline/passline/wire"
)

func openDB(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "state.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAgentSourceBuildsBoardFromState(t *testing.T) {
	db := openDB(t)
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	orders := []*agent.Order{
		{Store: "s1", ID: "a", ShortCode: "#1", Status: wire.StatusStarted, Station: "wok", TicketSeen: true,
			AcceptedAt: now.Add(-4 * time.Minute), Items: []wire.Item{{SKU: "noodles", Qty: 2, Station: "wok"}},
			Sent: agent.SentLog{{Kind: wire.KindETA, Sent: agent.Sent{ID: "a-1", At: now.Add(-time.Minute), ETA: now.Add(3 * time.Minute), Count: 2}}}},
		{Store: "s1", ID: "b", ShortCode: "#2", Status: wire.StatusAccepted, Station: "wok", TicketSeen: true, Marked: true,
			AcceptedAt: now.Add(-6 * time.Minute), Items: []wire.Item{{SKU: "rice", Qty: 1, Station: "wok"}}},
		{Store: "s1", ID: "c", Status: wire.StatusDone, TicketSeen: true, AcceptedAt: now.Add(-9 * time.Minute),
			Items: []wire.Item{{SKU: "tea", Qty: 1}},
			Sent:  agent.SentLog{{Kind: wire.KindReady, Sent: agent.Sent{ID: "c-1", At: now.Add(-2 * time.Minute), Count: 1, Withdrawn: true}}}},
		{Store: "s1", ID: "gone", Status: wire.StatusPickedUp, Station: "wok", AcceptedAt: now.Add(-20 * time.Minute)},
	}
	if err := db.Update(func(tx *bolt.Tx) error {
		for _, o := range orders {
			if err := tx.PutOrder(o); err != nil {
				return err
			}
		}
		d := wire.Decision{ID: "a-1", Store: "s1", OrderID: "a", Kind: wire.KindETA, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if _, err := tx.AppendOutbox(d, now); err != nil {
			return err
		}
		return tx.AddReject(agent.Reject{At: now, Reason: "malformed", Detail: "not JSON"})
	}); err != nil {
		t.Fatal(err)
	}
	engine, err := rules.New(agent.DefaultParams(), nil)
	if err != nil {
		t.Fatal(err)
	}
	src := &passboard.AgentSource{Store: "s1", DB: db, Model: engine, LeadTime: 5 * time.Minute,
		Now:   func() time.Time { return now },
		Links: func() []passboard.Link { return []passboard.Link{{Name: "mqtt", Up: true}, {Name: "nats"}} }}
	b, err := src.Board(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(b.Stations) != 2 || b.Stations[0].Name != "kitchen" || b.Stations[1].Name != "wok" {
		t.Fatalf("stations = %+v", b.Stations)
	}
	wok := b.Stations[1].Orders
	if len(wok) != 2 || wok[0].ID != "b" || wok[1].ID != "a" {
		t.Fatalf("wok orders = %+v, want b then a (oldest first), picked-up order left out", wok)
	}
	if !wok[0].Marked || wok[1].Marked {
		t.Fatalf("marked: b %v a %v, want only b (marked from the bump bar)", wok[0].Marked, wok[1].Marked)
	}
	a := wok[1]
	if a.ElapsedS != 240 || len(a.Told) != 1 || a.Told[0].Kind != "eta" || a.Told[0].ETA == nil || a.Told[0].Count != 2 || !a.Told[0].Queued {
		t.Fatalf("order a = %+v", a)
	}
	p := a.Prediction
	if p == nil || !p.Early.Before(p.Late) || p.ReadyAt.Before(p.Early) || p.ReadyAt.After(p.Late) || p.PReady <= 0 || p.PReady > 1 {
		t.Fatalf("prediction = %+v, want early <= ready <= late and 0 < p <= 1", p)
	}
	if p.Early.Before(now) && p.Early.Before(a.AcceptedAt.Add(4*time.Minute)) {
		t.Fatalf("band starts before the elapsed time: %+v", p)
	}
	if c := b.Stations[0].Orders[0]; c.ID != "c" || c.Prediction != nil || len(c.Told) != 1 || !c.Told[0].Withdrawn {
		t.Fatalf("done order = %+v, want no prediction and its recalled ready shown withdrawn", c)
	}
	if b.Outbox.Depth != 1 {
		t.Errorf("outbox = %+v, want depth 1", b.Outbox)
	}
	if len(b.Rejects) != 1 || b.Rejects[0].Reason != "malformed" || len(b.Links) != 2 || b.Devices != nil {
		t.Fatalf("rejects %+v links %+v devices %+v", b.Rejects, b.Links, b.Devices)
	}
}

func TestAgentSourceWithoutModel(t *testing.T) {
	db := openDB(t)
	src := &passboard.AgentSource{Store: "s1", DB: db}
	b, err := src.Board(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if b.Store != "s1" || len(b.Stations) != 0 || b.Outbox.Depth != 0 {
		t.Fatalf("empty board = %+v", b)
	}
}
