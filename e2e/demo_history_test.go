package e2e_test

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/firmware-bridge/sim"
)

var updateDemoHistory = flag.Bool("update-demo-history", false, "rewrite configs/demo/history.csv.gz from the demo kitchen")

// demoHistoryPath is the history the demo agent warms its model from
// (configs/demo/agent.yaml, model.warm_history).
var demoHistoryPath = filepath.Join("..", "configs", "demo", "history.csv.gz")

// TestDemoHistoryIsTheDemoKitchens: the shipped demo history is what the
// demo's simulated kitchen (configs/demo/bridge.yaml) produces over a
// day, so the demo agent's model starts from its own kitchen. After
// changing that kitchen, rerun with -update-demo-history.
func TestDemoHistoryIsTheDemoKitchens(t *testing.T) {
	want := demoHistory(t)
	if *updateDemoHistory {
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
		zw.ModTime = time.Time{}
		_, _ = zw.Write(want)
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(demoHistoryPath, gz.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := os.Open(demoHistoryPath)
	if err != nil {
		t.Fatalf("%v (create it with -update-demo-history)", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if _, err := got.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("%s is not what configs/demo/bridge.yaml's kitchen makes: rerun this test with -update-demo-history", demoHistoryPath)
	}
}

// demoHistory simulates the demo kitchen for a day from a fixed Monday and
// returns the history CSV of its bumped orders.
func demoHistory(t *testing.T) []byte {
	t.Helper()
	bc := shippedBridge(t, "demo", "tcp://127.0.0.1:1")
	cfg := bc.Sim.Kitchen
	cfg.Store, cfg.IDPrefix = bc.Store, "history"
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	k, err := sim.NewKitchen(cfg, uint64(bc.Sim.Seed), start)
	if err != nil {
		t.Fatal(err)
	}
	var outs []sim.Outcome
	for now := start; now.Before(start.Add(24 * time.Hour)); now = now.Add(time.Minute) {
		k.Step(now)
		outs = append(outs, k.TakeOutcomes()...)
	}
	sort.SliceStable(outs, func(i, j int) bool { return outs[i].AcceptedAt.Before(outs[j].AcceptedAt) })
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{"store_id", "order_id", "accepted_at", "started_at", "ready_at", "items", "distinct_items", "skus", "station"})
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z07:00") }
	for _, o := range outs {
		qty, skus, station := 0, make([]string, 0, len(o.Items)), map[string]int{}
		main := ""
		for _, it := range o.Items {
			qty += it.Qty
			skus = append(skus, it.SKU+"*"+strconv.Itoa(it.Qty))
			station[it.Station] += it.Qty
			if main == "" || station[it.Station] > station[main] {
				main = it.Station
			}
		}
		_ = w.Write([]string{bc.Store, o.OrderID, ts(o.AcceptedAt), ts(o.StartedAt), ts(o.DoneAt), strconv.Itoa(qty),
			strconv.Itoa(len(o.Items)), strings.Join(skus, ";"), main})
	}
	w.Flush()
	if len(outs) < 1000 {
		t.Fatalf("the demo kitchen bumped only %d orders in a day", len(outs))
	}
	return b.Bytes()
}
