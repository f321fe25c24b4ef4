package kpi_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/kpi"
	"github.com/passline/passline/cloud/natsd/natsdtest"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/wire"
)

// day is 2026-12-04 UTC; at("11:05:30") is that time of it.
func at(hms string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05", "2026-12-04 "+hms)
	if err != nil {
		panic(err)
	}
	return t
}

// step is one thing that happened: an agent's decision, or a platform
// order record as the receivers left it after a webhook.
type step struct {
	d *wire.Decision
	o *platform.Order
}

func dec(store, order string, kind wire.DecisionKind, seq int, accepted, when, eta string, flags ...string) step {
	d := wire.Decision{V: wire.Version, ID: store + "." + order + "." + string(kind) + "." + string(rune('0'+seq)),
		Store: store, OrderID: order, Kind: kind, CreatedAt: at(when), ExpiresAt: at(when).Add(2 * time.Hour), Flags: flags}
	if accepted != "" {
		d.AcceptedAt = at(accepted)
	}
	if eta != "" {
		e := at(eta)
		d.ETA = &e
	}
	if kind == wire.KindReady {
		d.EventID = "bump-" + order
	}
	return step{d: &d}
}

// plat is the platform record of store/order with the given times ("" =
// not reported yet).
func plat(store, order, accepted, arrived, picked string) step {
	o := platform.Order{Store: store, OrderID: order, Platform: platform.Deliveroo, PlatformID: "dr-" + order, Status: "accepted"}
	for _, f := range []struct {
		dst *time.Time
		v   string
	}{{&o.AcceptedAt, accepted}, {&o.RiderArrivedAt, arrived}, {&o.PickedUpAt, picked}} {
		if f.v != "" {
			*f.dst = at(f.v)
		}
	}
	if picked != "" {
		o.Status = "picked_up"
	}
	return step{o: &o}
}

// scriptedDay is one day of two stores. Store s1 has platform records
// (arrival, pickup); store s2 has none, so its rider waits are unknown.
//
// s1, hour 11:00
//
//	A accepted 11:00:00; eta 11:02 for 11:10; ready_soon 11:06 for 11:09
//	  (told "about 3 min": promised by 11:09); kitchen ready 11:08;
//	  rider arrived 11:05, picked up 11:09.
//	B accepted 11:20:00; ready_soon 11:25 for 11:27:30 (told "about 3
//	  min", ceil 2.5: promised by 11:28); ready 11:30 (promise broken);
//	  rider arrived 11:33, picked up 11:34.
//	C accepted 11:40:00; ready 11:40:30, flagged early_ready; platform
//	  reported the pickup at 11:50 but no arrival.
//	D accepted 11:45:00; eta 11:47 for 11:55; never bumped (no ready
//	  report); rider arrived 11:52, picked up 11:58.
//	E accepted 11:50:00; eta 11:51 for 12:00; cancelled 11:55.
//
// s1, hour 12:00
//
//	F placed on the platform 11:59:30 (the record arrives first, filing F
//	  under 11:00); the kitchen accepted it 12:00:10, which moves F to
//	  12:00; ready 12:15; rider arrived 12:10, picked up 12:16.
//
// s2, hour 11:00 (no platform)
//
//	G accepted 11:10; ready_soon 11:15 for 11:18 (promised by 11:18);
//	  ready 11:17.
//	H accepted 11:30; eta 11:31 for 11:45; ready 11:40.
func scriptedDay() []step {
	return []step{
		plat("s1", "F", "11:59:30", "", ""),
		dec("s1", "A", wire.KindETA, 1, "11:00:00", "11:02:00", "11:10:00"),
		plat("s1", "A", "11:00:00", "11:05:00", ""),
		dec("s1", "A", wire.KindReadySoon, 2, "11:00:00", "11:06:00", "11:09:00"),
		dec("s1", "A", wire.KindReady, 3, "11:00:00", "11:08:00", "11:08:00"),
		plat("s1", "A", "11:00:00", "11:05:00", "11:09:00"),
		dec("s1", "B", wire.KindReadySoon, 1, "11:20:00", "11:25:00", "11:27:30"),
		dec("s1", "B", wire.KindReady, 2, "11:20:00", "11:30:00", "11:30:00"),
		plat("s1", "B", "11:20:00", "11:33:00", ""),
		plat("s1", "B", "11:20:00", "11:33:00", "11:34:00"),
		dec("s1", "C", wire.KindReady, 1, "11:40:00", "11:40:30", "11:40:30", wire.FlagEarlyReady),
		plat("s1", "C", "11:40:00", "", "11:50:00"),
		dec("s1", "D", wire.KindETA, 1, "11:45:00", "11:47:00", "11:55:00"),
		plat("s1", "D", "11:45:00", "11:52:00", "11:58:00"),
		dec("s1", "E", wire.KindETA, 1, "11:50:00", "11:51:00", "12:00:00"),
		dec("s1", "E", wire.KindCancelled, 2, "11:50:00", "11:55:00", ""),
		dec("s1", "F", wire.KindReady, 1, "12:00:10", "12:15:00", "12:15:00"),
		plat("s1", "F", "11:59:30", "12:10:00", "12:16:00"),
		dec("s2", "G", wire.KindReadySoon, 1, "11:10:00", "11:15:00", "11:18:00"),
		dec("s2", "G", wire.KindReady, 2, "11:10:00", "11:17:00", "11:17:00"),
		dec("s2", "H", wire.KindETA, 1, "11:30:00", "11:31:00", "11:45:00"),
		dec("s2", "H", wire.KindReady, 2, "11:30:00", "11:40:00", "11:40:00"),
	}
}

func f(v float64) *float64 { return &v }

// want is a KPI's expected figures; nil pointers mean "unknown".
type want struct {
	orders, cancelled, decisions, ready, early int
	rate                                       *float64
	rider, avoid, food                         *kpi.Stat
	eta                                        *kpi.ErrorStat
	soon, kept                                 int
	share                                      *float64
	flags                                      []string
}

// TestScriptedDayKPIs runs the scripted day through JetStream and the KPI
// consumer (every decision published twice, under two message ids as a
// store replaying after an outage would, and the consumer restarted half
// way), then checks every KPI against figures worked out by hand.
func TestScriptedDayKPIs(t *testing.T) {
	ctx := context.Background()
	_, js := natsdtest.JetStream(t)
	if _, err := natsjs.Setup(ctx, js, natsjs.Options{Replicas: 1, DuplicateWindow: time.Minute, OutboxDuplicate: time.Minute}); err != nil {
		t.Fatal(err)
	}
	kb, err := natsjs.SetupKPI(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := natsjs.SetupPlatform(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	store := natsjs.KPIStore{FactsKV: kb.Facts, HoursKV: kb.Hours}
	rec := &kpi.Recorder{Store: store}
	start := func() *natsjs.KPIConsumer {
		c := &natsjs.KPIConsumer{JS: js, Streams: natsjs.DecisionStreams(1), Recorder: rec, Log: slog.New(slog.DiscardHandler)}
		if err := c.Start(ctx); err != nil {
			t.Fatal(err)
		}
		return c
	}
	day := scriptedDay()
	c := start()
	for i, s := range day {
		if i == len(day)/2 { // a replica restart: the durable consumer resumes
			waitIdle(t, js)
			c.Close()
			c = start()
		}
		play(t, js, pb.Orders, s, "")
	}
	for _, s := range day { // replayed after an outage, past the duplicate window
		if s.d != nil {
			play(t, js, pb.Orders, s, "replay:")
		}
	}
	waitIdle(t, js)
	c.Close()

	s1, s2 := "s1", "s2"
	tests := []struct {
		name     string
		store    string
		from, to string
		want     want
	}{
		{"s1 11:00", s1, "11:00:00", "12:00:00", want{
			orders: 4, cancelled: 1, // A B C D; E cancelled; F moved to 12:00
			decisions: 9,                // A eta+ready_soon+ready, B ready_soon+ready, C ready, D eta, E eta+cancelled
			ready:     3, rate: f(0.75), // A B C of 4 (D never bumped)
			early: 1, // C: ready 30 s after accept, flagged
			// rider wait, arrival → pickup: A 11:09-11:05 = 240, B 11:34-11:33 = 60,
			// D 11:58-11:52 = 360 (C has no arrival): mean 660/3 = 220, max 360
			rider: &kpi.Stat{N: 3, Mean: 220, Max: 360},
			// avoidable, ready − arrival when positive: A 11:08-11:05 = 180,
			// B arrived after ready = 0 (D no ready, C no arrival): mean 90
			avoid: &kpi.Stat{N: 2, Mean: 90, Max: 180},
			// food waiting, ready → pickup: A 11:09-11:08 = 60, B 11:34-11:30 = 240,
			// C 11:50:00-11:40:30 = 570: mean 870/3 = 290
			food: &kpi.Stat{N: 3, Mean: 290, Max: 570},
			// predicted − actual: A eta 11:10-11:08 = +120, A ready_soon
			// 11:09-11:08 = +60, B ready_soon 11:27:30-11:30 = -150 (D, E not
			// ready): MAE (120+60+150)/3 = 110, bias (120+60-150)/3 = 10
			eta: &kpi.ErrorStat{N: 3, MAE: 110, Bias: 10},
			// ready_soon A kept (11:08 <= 11:09), B broken (11:30 > 11:28)
			soon: 2, kept: 1, share: f(0.5),
		}},
		{"s1 12:00", s1, "12:00:00", "13:00:00", want{
			orders: 1, decisions: 1, ready: 1, rate: f(1), // F
			rider: &kpi.Stat{N: 1, Mean: 360, Max: 360}, // 12:16-12:10
			avoid: &kpi.Stat{N: 1, Mean: 300, Max: 300}, // 12:15-12:10
			food:  &kpi.Stat{N: 1, Mean: 60, Max: 60},   // 12:16-12:15
			// no eta or ready_soon: error and share unknown
		}},
		{"s1 day", s1, "00:00:00", "23:59:59", want{
			orders: 5, cancelled: 1, decisions: 10, ready: 4, rate: f(0.8), early: 1,
			// 240, 60, 360, 360: mean 1020/4 = 255
			rider: &kpi.Stat{N: 4, Mean: 255, Max: 360},
			// 180, 0, 300: mean 480/3 = 160
			avoid: &kpi.Stat{N: 3, Mean: 160, Max: 300},
			// 60, 240, 570, 60: mean 930/4 = 232.5
			food: &kpi.Stat{N: 4, Mean: 232.5, Max: 570},
			eta:  &kpi.ErrorStat{N: 3, MAE: 110, Bias: 10},
			soon: 2, kept: 1, share: f(0.5),
		}},
		{"s2 11:00, no arrival data", s2, "11:00:00", "12:00:00", want{
			orders: 2, decisions: 4, ready: 2, rate: f(1), // G H
			// no rider arrival or pickup at all: unknown, never 0
			flags: []string{kpi.NoArrivalData, kpi.NoPickupData},
			// G ready_soon 11:18-11:17 = +60, H eta 11:45-11:40 = +300:
			// MAE (60+300)/2 = 180, bias (60+300)/2 = 180
			eta:  &kpi.ErrorStat{N: 2, MAE: 180, Bias: 180},
			soon: 1, kept: 1, share: f(1), // G: 11:17 <= 11:18
		}},
		{"s2 10:00, no orders", s2, "10:00:00", "11:00:00", want{
			flags: []string{kpi.NoOrders, kpi.NoArrivalData, kpi.NoPickupData},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, hours, err := rec.Range(ctx, tc.store, at(tc.from), at(tc.to))
			if err != nil {
				t.Fatal(err)
			}
			check(t, got, tc.want)
			if len(hours) == 0 || !hours[0].From.Equal(at(tc.from).Truncate(time.Hour)) {
				t.Errorf("hours %v", hours)
			}
		})
	}
}

func check(t *testing.T, got kpi.KPIs, w want) {
	t.Helper()
	ints := [][3]any{{"orders", got.Orders, w.orders}, {"cancelled", got.Cancelled, w.cancelled}, {"decisions", got.Decisions, w.decisions},
		{"ready_reported", got.ReadyReported, w.ready}, {"early_ready", got.EarlyReady, w.early},
		{"ready_soon", got.ReadySoon, w.soon}, {"ready_soon_kept", got.ReadySoonKept, w.kept}}
	for _, c := range ints {
		if c[1] != c[2] {
			t.Errorf("%s = %v, want %v", c[0], c[1], c[2])
		}
	}
	eqf := func(name string, g, w *float64) {
		if (g == nil) != (w == nil) || g != nil && math.Abs(*g-*w) > 1e-9 {
			t.Errorf("%s = %s, want %s", name, js(g), js(w))
		}
	}
	eqf("ready_report_rate", got.ReadyReportRate, w.rate)
	eqf("ready_soon_kept_share", got.ReadySoonShare, w.share)
	for _, s := range []struct {
		name string
		g, w *kpi.Stat
	}{{"rider_wait", got.RiderWait, w.rider}, {"avoidable_wait", got.AvoidableWait, w.avoid}, {"food_wait", got.FoodWait, w.food}} {
		if !reflect.DeepEqual(s.g, s.w) {
			t.Errorf("%s = %s, want %s", s.name, js(s.g), js(s.w))
		}
	}
	if g := got.ETAError; (g == nil) != (w.eta == nil) || g != nil && (g.N != w.eta.N || math.Abs(g.MAE-w.eta.MAE) > 1e-9 || math.Abs(g.Bias-w.eta.Bias) > 1e-9) {
		t.Errorf("eta_error = %s, want %s", js(got.ETAError), js(w.eta))
	}
	wantFlags := w.flags
	if w.food != nil {
		wantFlags = slices.DeleteFunc(slices.Clone(wantFlags), func(s string) bool { return s == kpi.NoPickupData })
	} else if !slices.Contains(wantFlags, kpi.NoPickupData) {
		wantFlags = append(slices.Clone(wantFlags), kpi.NoPickupData)
	}
	if !slices.Equal(got.Flags, wantFlags) && !(len(got.Flags) == 0 && len(wantFlags) == 0) {
		t.Errorf("flags = %v, want %v", got.Flags, wantFlags)
	}
	if slices.Contains(got.Flags, kpi.NoArrivalData) && (got.RiderWait != nil || got.AvoidableWait != nil) {
		t.Errorf("no arrival data but rider wait %s, avoidable %s", js(got.RiderWait), js(got.AvoidableWait))
	}
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// play publishes a decision (message id prefix+id) or saves a platform
// record as the receivers do.
func play(t testing.TB, js jetstream.JetStream, orders jetstream.KeyValue, s step, prefix string) {
	t.Helper()
	ctx := context.Background()
	if s.d != nil {
		b, err := s.d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		m := nats.NewMsg(wire.DecisionSubject(s.d.Store))
		m.Data = b
		m.Header.Set(nats.MsgIdHdr, prefix+s.d.ID)
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
		return
	}
	if _, err := (natsjs.PlatformOrders{KV: orders}).Update(ctx, s.o.Store, s.o.OrderID, func(o *platform.Order) error {
		*o = *s.o
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// waitIdle waits until the KPI consumers have acked everything.
func waitIdle(t testing.TB, js jetstream.JetStream) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(20 * time.Second)
	for _, stream := range []string{wire.StreamDecisions, "KV_" + natsjs.BucketPlatformOrders} {
		for {
			cons, err := js.Consumer(ctx, stream, natsjs.DurableKPI)
			if err != nil {
				t.Fatal(err)
			}
			info, err := cons.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.NumPending == 0 && info.NumAckPending == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: kpi consumer still has %d pending, %d unacked", stream, info.NumPending, info.NumAckPending)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
