package chaos_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/natsd"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/relaytest"
	"github.com/passline/passline/wire"
)

// TestCheckFindsViolations feeds check streams with known faults, so a
// clean chaos verdict means something: a lost bump, two ready decisions
// for one order, a ready never delivered, a rider message stored twice
// and one seen twice on the wire must each be reported.
func TestCheckFindsViolations(t *testing.T) {
	s, err := natsd.Start(natsd.Options{Listen: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Shutdown)
	nc, err := nats.Connect(s.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx := context.Background()
	for _, c := range []jetstream.StreamConfig{
		{Name: wire.StreamDecisions, Subjects: []string{wire.SubjectDecisions}},
		{Name: natsjs.StreamOutbox, Subjects: []string{natsjs.OutboxFilter(0)}}, // no dedupe header used: a stored duplicate stays
	} {
		if _, err := js.CreateStream(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	decide := func(id, order string) {
		b, _ := relaytest.Decision(id, "s", order, wire.KindReady).Marshal()
		if _, err := js.Publish(ctx, wire.DecisionSubject("s"), b); err != nil {
			t.Fatal(err)
		}
	}
	deliver := func(id, order string) {
		n := wire.Notification{V: 1, ID: id, Rider: "r1", Store: "s", OrderID: order, Kind: wire.KindReady, Text: "ready", DecidedAt: time.Now(), SentAt: time.Now()}
		b, err := n.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(ctx, natsjs.OutboxSubject(0, "r1", id), b); err != nil {
			t.Fatal(err)
		}
	}
	decide("d-ok", "ok")
	deliver("d-ok", "ok")
	decide("d-two-1", "two") // two ready decisions for one order
	decide("d-two-2", "two")
	deliver("d-two-1", "two")
	deliver("d-two-2", "two")
	decide("d-lost", "undelivered") // acknowledged, never delivered
	decide("d-dup", "dup")          // delivered twice
	deliver("d-dup", "dup")
	deliver("d-dup", "dup")
	expected := map[string]bool{"s/ok": true, "s/two": true, "s/undelivered": true, "s/dup": true, "s/nobump": true}
	live := &wireRiders{count: map[string]int{"d-ok": 1, "d-wire": 2}}

	v := check(t, js, expected, live)
	want := map[string]int{
		"acknowledged bump produced no ready decision": 1, // s/nobump
		"order produced several ready decisions":       1, // s/two
		"order's rider did not get exactly one ready":  3, // s/two (2), s/undelivered (0), s/nobump (0)
		"acknowledged ready decision never delivered":  1, // d-lost
		"rider message duplicated in RIDER_OUTBOX":     1, // d-dup
		"rider message duplicated on the wire":         1, // d-wire
	}
	for kind, n := range want {
		if v.violations[kind] != n {
			t.Errorf("%s: %d, want %d", kind, v.violations[kind], n)
		}
	}
	if v.total() != 8 {
		t.Errorf("total violations %d, want 8: %v", v.total(), v.violations)
	}
}

// TestMissingKindsReportsEachAbsentKind: a run that skipped a fault kind
// must not pass as a chaos run.
func TestMissingKindsReportsEachAbsentKind(t *testing.T) {
	all := map[string]int{}
	for _, k := range faultKinds {
		all[k] = 1
	}
	for _, tc := range []struct {
		name   string
		faults map[string]int
		want   int
	}{
		{"none", map[string]int{}, len(faultKinds)},
		{"all", all, 0},
		{"no uplink cut", map[string]int{"agent SIGKILL": 3, "NATS node stop": 1, "relay SIGKILL": 1, "MQTT broker restart": 1, "SIGSTOP/SIGCONT": 2}, 1},
	} {
		if got := missingKinds(tc.faults); len(got) != tc.want {
			t.Errorf("%s: missing %v, want %d kinds", tc.name, got, tc.want)
		}
	}
}
