package relay_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/passline/passline/cloud/relay"
	"github.com/passline/passline/wire"
)

// memResends records what the relay scheduled; fail makes Schedule fail.
type memResends struct {
	mu   sync.Mutex
	got  []wire.Notification
	fail error
}

func (r *memResends) Schedule(_ context.Context, n wire.Notification) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.got = append(r.got, n)
	return nil
}

func (r *memResends) scheduled() []wire.Notification {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]wire.Notification(nil), r.got...)
}

// TestNotificationCarriesDecisionSeq: the rider's card version is the
// agent's per-order decision sequence, whatever order the relay handles
// the decisions in.
func TestNotificationCarriesDecisionSeq(t *testing.T) {
	ch := &fakeChannel{name: "rider"}
	h := newHarness(t, t0, ch)
	assign(h, "o1", "r1")
	for _, seq := range []uint64{2, 1, 3} {
		d := decision(fmt.Sprint("d", seq), "o1", wire.KindReadySoon)
		d.Seq = seq
		d.ETA = nil
		h.relay.Handle(context.Background(), raw(t, d))
	}
	got := ch.delivered()
	if len(got) != 3 {
		t.Fatalf("delivered %d", len(got))
	}
	for i, want := range []uint64{2, 1, 3} {
		if got[i].Version != want {
			t.Errorf("notification %d: version %d, want %d", i, got[i].Version, want)
		}
	}
}

// TestReadyIsScheduledForResend: a delivered ready, and only a ready, is
// handed to Resends before its decision is acked (and, with marks, before
// the mark is saved, so a redelivery found in the marks was scheduled); a
// failed schedule retries the decision, whose redelivery schedules again.
func TestReadyIsScheduledForResend(t *testing.T) {
	ch := &fakeChannel{name: relay.RiderChannelName}
	h := newHarness(t, t0, ch)
	rs := &memResends{}
	h.relay.Resends = rs
	assign(h, "o1", "r1")
	eta := decision("e1", "o1", wire.KindETA)
	if out := h.relay.Handle(context.Background(), raw(t, eta)); out.Result != "delivered" {
		t.Fatalf("eta: %+v", out)
	}
	if n := len(rs.scheduled()); n != 0 {
		t.Fatalf("an eta was scheduled for re-send (%d)", n)
	}
	ready := decision("r1", "o1", wire.KindReady)
	ready.Seq = 4
	for i, want := range []string{"delivered", "duplicate"} {
		if out := h.relay.Handle(context.Background(), raw(t, ready)); out.Action != relay.Ack || out.Result != want {
			t.Fatalf("ready %d: %+v, want %s", i, out, want)
		}
	}
	got := rs.scheduled()
	if len(got) != 1 || got[0].ID != "r1" || got[0].Version != 4 || got[0].Rider != "r1" {
		t.Fatalf("scheduled %+v, want the ready once", got)
	}

	rs.mu.Lock()
	rs.fail = errors.New("server gone")
	rs.mu.Unlock()
	other := decision("r2", "o1", wire.KindReady)
	if out := h.relay.Handle(context.Background(), raw(t, other)); out.Action != relay.Retry {
		t.Fatalf("failed schedule: %+v, want Retry", out)
	}
	rs.mu.Lock()
	rs.fail = nil
	rs.mu.Unlock()
	if out := h.relay.Handle(context.Background(), raw(t, other)); out.Action != relay.Ack {
		t.Fatalf("redelivery after a failed schedule: %+v", out)
	}
	if got := rs.scheduled(); len(got) != 2 || got[1].ID != "r2" {
		t.Fatalf("scheduled %+v, want r2 after its redelivery", got)
	}
}
