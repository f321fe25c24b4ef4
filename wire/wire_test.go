package wire_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/wire"
)

func ticketEvent(now time.Time) wire.Event {
	return wire.Event{
		ID: "printer-1:42", Kind: wire.EventTicket, Store: "s1", DeviceID: "printer-1", At: now,
		Ticket: &wire.Ticket{OrderID: "o-42", ShortCode: "#42", Channel: "meituan",
			Items: []wire.Item{{SKU: "noodles", Qty: 2, Station: "wok"}, {SKU: "tea", Qty: 1, Station: "drinks"}}},
	}
}

func TestEventRoundTrip(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	e := ticketEvent(now)
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tp := wire.Topic{Store: "s1", Device: wire.DevicePrinter, DeviceID: "printer-1", Event: wire.EventTicket}
	gotTopic, got, err := wire.DecodeEventOn(tp.String(), b)
	if err != nil {
		t.Fatal(err)
	}
	if gotTopic != tp {
		t.Fatalf("topic = %+v, want %+v", gotTopic, tp)
	}
	if got.V != wire.Version || got.OrderID() != "o-42" || !got.At.Equal(now) || len(got.Ticket.Items) != 2 {
		t.Fatalf("decoded %+v", got)
	}
}

// TestScanEventRoundTrip: a scanner's event travels on its own device
// topic and keeps the code as typed, pickup-number '#' included.
func TestScanEventRoundTrip(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	e := wire.Event{ID: "sc-1", Kind: wire.EventScan, Store: "s1", DeviceID: "scanner-1", At: now, Scan: &wire.Scan{Code: "#42"}}
	b, err := e.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	tp := wire.Topic{Store: "s1", Device: wire.DeviceScanner, DeviceID: "scanner-1", Event: wire.EventScan}
	if tp.String() != "passline/v1/s1/scanner/scanner-1/scan" {
		t.Fatalf("topic %s", tp)
	}
	_, got, err := wire.DecodeEventOn(tp.String(), b)
	if err != nil {
		t.Fatal(err)
	}
	if got.Scan == nil || got.Scan.Code != "#42" || got.OrderID() != "" {
		t.Fatalf("decoded %+v", got)
	}
}

func TestDecodeEventRefuses(t *testing.T) {
	now := time.Now().UTC()
	valid, _ := ticketEvent(now).Marshal()
	mutate := func(f func(e *wire.Event)) string {
		e := ticketEvent(now)
		f(&e)
		e.V = wire.Version
		b, err := jsonMarshal(e)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	tests := []struct {
		name   string
		in     string
		reason wire.Reason
		field  string
	}{
		{"not json", "{nope", wire.ReasonMalformed, ""},
		{"wrong type", `{"v":"one"}`, wire.ReasonMalformed, "v"},
		{"trailing", string(valid) + "{}", wire.ReasonMalformed, ""},
		{"oversize", `{"v":1,"id":"` + strings.Repeat("x", wire.MaxPayload) + `"}`, wire.ReasonOversize, ""},
		{"unknown version", strings.Replace(string(valid), `"v":1`, `"v":7`, 1), wire.ReasonVersion, "v"},
		{"no version", strings.Replace(string(valid), `"v":1,`, ``, 1), wire.ReasonVersion, "v"},
		{"bad store", mutate(func(e *wire.Event) { e.Store = "a/b" }), wire.ReasonInvalid, "store"},
		{"no id", mutate(func(e *wire.Event) { e.ID = "" }), wire.ReasonInvalid, "id"},
		{"years old", mutate(func(e *wire.Event) { e.At = now.AddDate(-3, 0, 0) }), wire.ReasonInvalid, "at"},
		{"far future", mutate(func(e *wire.Event) { e.At = now.Add(72 * time.Hour) }), wire.ReasonInvalid, "at"},
		{"negative qty", mutate(func(e *wire.Event) { e.Ticket.Items[1].Qty = -1 }), wire.ReasonInvalid, "ticket.items[1].qty"},
		{"missing order", mutate(func(e *wire.Event) { e.Ticket.OrderID = "" }), wire.ReasonInvalid, "ticket.order_id"},
		{"body mismatch", mutate(func(e *wire.Event) { e.Kind = wire.EventKey }), wire.ReasonInvalid, "key"},
		{"two bodies", mutate(func(e *wire.Event) { e.Weight = &wire.Weight{Grams: 1} }), wire.ReasonInvalid, "kind"},
		{"unknown kind", mutate(func(e *wire.Event) { e.Kind = "smell" }), wire.ReasonInvalid, "kind"},
		{"absurd weight", mutate(func(e *wire.Event) {
			e.Kind, e.Ticket, e.Weight = wire.EventWeight, nil, &wire.Weight{Grams: -5}
		}), wire.ReasonInvalid, "weight.grams"},
		{"bad key", mutate(func(e *wire.Event) {
			e.Kind, e.Ticket, e.Key = wire.EventKey, nil, &wire.Key{Action: "smash"}
		}), wire.ReasonInvalid, "key.action"},
		{"select without position", mutate(func(e *wire.Event) {
			e.Kind, e.Ticket, e.Key = wire.EventKey, nil, &wire.Key{Action: wire.KeySelect}
		}), wire.ReasonInvalid, "key.position"},
		{"bad pos status", mutate(func(e *wire.Event) {
			e.Kind, e.Ticket, e.POS = wire.EventPOS, nil, &wire.POSStatus{OrderID: "o1", Status: "eaten"}
		}), wire.ReasonInvalid, "pos.status"},
		{"unparsed without raw", mutate(func(e *wire.Event) { e.Kind = wire.EventUnparsed }), wire.ReasonInvalid, "ticket.raw"},
		{"scan without code", mutate(func(e *wire.Event) {
			e.Kind, e.Ticket, e.Scan = wire.EventScan, nil, &wire.Scan{}
		}), wire.ReasonInvalid, "scan.code"},
		{"scan code with a control character", mutate(func(e *wire.Event) {
			e.Kind, e.Ticket, e.Scan = wire.EventScan, nil, &wire.Scan{Code: "o-1\x1b"}
		}), wire.ReasonInvalid, "scan.code"},
		{"scan code too long", mutate(func(e *wire.Event) {
			e.Kind, e.Ticket, e.Scan = wire.EventScan, nil, &wire.Scan{Code: strings.Repeat("7", wire.MaxScanLen+1)}
		}), wire.ReasonInvalid, "scan.code"},
		{"scan without body", mutate(func(e *wire.Event) { e.Kind = wire.EventScan }), wire.ReasonInvalid, "scan"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := wire.DecodeEvent([]byte(tt.in))
			if err == nil {
				t.Fatal("accepted")
			}
			var we *wire.Error
			if !errors.As(err, &we) {
				t.Fatalf("error %v is not a *wire.Error", err)
			}
			if we.Reason != tt.reason || we.Field != tt.field {
				t.Fatalf("got reason %q field %q (%v), want %q %q", we.Reason, we.Field, err, tt.reason, tt.field)
			}
			if wire.ReasonOf(err) != tt.reason {
				t.Fatalf("ReasonOf = %q", wire.ReasonOf(err))
			}
		})
	}
}

func TestDecodeEventOnMismatch(t *testing.T) {
	b, _ := ticketEvent(time.Now()).Marshal()
	tests := []struct{ topic, field string }{
		{"passline/v1/s2/printer/printer-1/ticket", "store"},
		{"passline/v1/s1/printer/printer-2/ticket", "device_id"},
		{"passline/v1/s1/printer/printer-1/key", "kind"},
	}
	for _, tt := range tests {
		_, _, err := wire.DecodeEventOn(tt.topic, b)
		var we *wire.Error
		if !errors.As(err, &we) || we.Field != tt.field {
			t.Errorf("%s: err = %v, want field %q", tt.topic, err, tt.field)
		}
	}
}

func TestTopics(t *testing.T) {
	good := []string{"passline/v1/s1/printer/p1/ticket", "passline/v1/store_9/bumpbar/bar-1/key", "passline/v1/x/bridge/b/status"}
	for _, s := range good {
		tp, err := wire.ParseTopic(s)
		if err != nil {
			t.Errorf("%s: %v", s, err)
			continue
		}
		if tp.String() != s {
			t.Errorf("round trip %s -> %s", s, tp.String())
		}
	}
	bad := []string{"", "passline/v1/s1/printer/p1", "passline/v2/s1/printer/p1/ticket", "passline/v1/s+/printer/p1/ticket",
		"passline/v1/s1/toaster/p1/ticket", "passline/v1/s1/printer/p1/boom", "passline/v1/s1/printer/p1/ticket/extra",
		"passline/v1/" + strings.Repeat("s", 65) + "/printer/p1/ticket"}
	for _, s := range bad {
		if _, err := wire.ParseTopic(s); wire.ReasonOf(err) != wire.ReasonTopic {
			t.Errorf("%q: err = %v, want a topic error", s, err)
		}
	}
	if got := wire.StoreFilter("s1"); got != "passline/v1/s1/+/+/+" {
		t.Errorf("StoreFilter = %q", got)
	}
}

func TestSubjects(t *testing.T) {
	if s, err := wire.ParseDecisionSubject(wire.DecisionSubject("s1")); err != nil || s != "s1" {
		t.Errorf("decision subject: %q %v", s, err)
	}
	if s, err := wire.ParseAssignSubject(wire.AssignSubject("s1")); err != nil || s != "s1" {
		t.Errorf("assign subject: %q %v", s, err)
	}
	if r, err := wire.ParseRiderSubject(wire.RiderSubject("r9", "k1")); err != nil || r != "r9" {
		t.Errorf("rider subject: %q %v", r, err)
	}
	for _, s := range []string{"passline.*.decision", "passline.a.b.decision", "nats.s1.decision", "passline.s1.assign"} {
		if _, err := wire.ParseDecisionSubject(s); err == nil {
			t.Errorf("%q accepted as a decision subject", s)
		}
	}
	for _, s := range []string{"passline.rider.>.notify.k", "passline.rider.r9.notify.*", "passline.rider.r9.notify", wire.RiderFilter("r9")} {
		if _, err := wire.ParseRiderSubject(s); err == nil {
			t.Errorf("%q accepted as a rider notification subject", s)
		}
	}
}

func TestDecision(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	d := wire.Decision{ID: "s1.o1.ready.1", Store: "s1", OrderID: "o1", Kind: wire.KindReady, EventID: "bar:1",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	b, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := wire.DecodeDecision(b)
	if err != nil || got.ID != d.ID || !got.CreatedAt.Equal(now) {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	tests := []struct {
		name  string
		f     func(d *wire.Decision)
		field string
	}{
		{"ready without event", func(d *wire.Decision) { d.EventID = "" }, "event_id"},
		{"unknown kind", func(d *wire.Decision) { d.Kind = "maybe" }, "kind"},
		{"expired before created", func(d *wire.Decision) { d.ExpiresAt = d.CreatedAt }, "expires_at"},
		{"probability", func(d *wire.Decision) { d.Probability = 1.5 }, "probability"},
		{"order", func(d *wire.Decision) { d.OrderID = "a b" }, "order_id"},
	}
	for _, tt := range tests {
		c := d
		tt.f(&c)
		_, err := c.Marshal()
		var we *wire.Error
		if !errors.As(err, &we) || we.Field != tt.field {
			t.Errorf("%s: err = %v, want field %q", tt.name, err, tt.field)
		}
	}
	if !wire.KindReady.Critical() || !wire.KindCancelled.Critical() || wire.KindETA.Critical() {
		t.Error("Critical is wrong")
	}
}

func TestNotificationAndAssignment(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	n := wire.Notification{ID: "d1", Rider: "r1", Store: "s1", OrderID: "o1", Kind: wire.KindReady, Text: "Order #1 is ready", SentAt: now}
	b, err := n.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := wire.DecodeNotification(b); err != nil || got.Text != n.Text {
		t.Fatalf("notification round trip: %+v %v", got, err)
	}
	n.Text = ""
	if _, err := n.Marshal(); err == nil {
		t.Error("empty text accepted")
	}
	a := wire.Assignment{Store: "s1", OrderID: "o1", Rider: "r1", TravelSeconds: 300, At: now}
	b, err = a.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := wire.DecodeAssignment(b); err != nil || got.Rider != "r1" {
		t.Fatalf("assignment round trip: %+v %v", got, err)
	}
	a.TravelSeconds = -1
	if _, err := a.Marshal(); err == nil {
		t.Error("negative travel accepted")
	}
}

// TestNotificationVersionRoundTrip: the version and the re-send mark
// survive encoding, and a notification from a sender that knows neither
// (no "version", no "resent") still decodes, as version 0.
func TestNotificationVersionRoundTrip(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Millisecond)
	n := wire.Notification{ID: "d1", Rider: "r1", Store: "s1", OrderID: "o1", Kind: wire.KindReady, Text: "ready",
		SentAt: now, DecidedAt: now, Version: 7, Resent: true}
	b, err := n.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := wire.DecodeNotification(b)
	if err != nil || got.Version != 7 || !got.Resent {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	old := `{"v":1,"id":"d1","rider":"r1","store":"s1","order_id":"o1","kind":"eta","text":"soon","sent_at":"2026-12-04T08:00:00Z","decided_at":"2026-12-04T08:00:00Z"}`
	if got, err := wire.DecodeNotification([]byte(old)); err != nil || got.Version != 0 || got.Resent {
		t.Fatalf("notification without a version: %+v %v", got, err)
	}
	d := wire.Decision{ID: "s1.o1.eta.1", Store: "s1", OrderID: "o1", Kind: wire.KindETA, CreatedAt: now, ExpiresAt: now.Add(time.Minute), Seq: 3}
	if b, err := d.Marshal(); err != nil {
		t.Fatal(err)
	} else if got, err := wire.DecodeDecision(b); err != nil || got.Seq != 3 {
		t.Fatalf("decision seq round trip: %+v %v", got, err)
	}
}

// TestNotificationSupersedes is the card rule: a higher version wins
// whatever the clocks say, the same version replaces only when decided no
// earlier (a re-send), and version-0 notifications order by decision time.
func TestNotificationSupersedes(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	note := func(v uint64, decided time.Time) wire.Notification {
		return wire.Notification{Version: v, DecidedAt: decided}
	}
	for _, tc := range []struct {
		name     string
		n, old   wire.Notification
		replaces bool
	}{
		{"newer version", note(3, t0), note(2, t0), true},
		{"older version arriving late", note(2, t0.Add(time.Minute)), note(3, t0), false},
		{"newer version, agent clock went back", note(4, t0.Add(-time.Hour)), note(3, t0), true},
		{"same decision again (re-send)", note(3, t0), note(3, t0), true},
		{"same version decided earlier", note(3, t0.Add(-time.Second)), note(3, t0), false},
		{"unversioned, later", note(0, t0.Add(time.Second)), note(0, t0), true},
		{"unversioned, earlier", note(0, t0.Add(-time.Second)), note(0, t0), false},
		{"versioned after unversioned", note(1, t0.Add(-time.Hour)), note(0, t0), true},
	} {
		if got := tc.n.Supersedes(tc.old); got != tc.replaces {
			t.Errorf("%s: Supersedes = %v, want %v", tc.name, got, tc.replaces)
		}
	}
}
