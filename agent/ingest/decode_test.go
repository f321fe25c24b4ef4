package ingest

import (
	"testing"
	"time"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/wire"
)

// FuzzDecodeInput: any bytes on any topic become either a valid event or a
// reject with a known reason and at most MaxRejectRaw raw bytes.
func FuzzDecodeInput(f *testing.F) {
	ev := wire.Event{ID: "e1", Kind: wire.EventTicket, Store: "s1", DeviceID: "p1", At: time.Now(),
		Ticket: &wire.Ticket{OrderID: "o1", Items: []wire.Item{{SKU: "a", Qty: 1}}}}
	good, _ := ev.Marshal()
	f.Add("passline/v1/s1/printer/p1/ticket", good)
	f.Add("passline/v1/s1/printer/p1/ticket", []byte(`{"v":2}`))
	f.Add("passline/v1/s1/bumpbar/b1/key", []byte(`{"v":1,"kind":"key","key":{"action":"bump","position":-1}}`))
	f.Add("x", []byte{0xff, 0})
	f.Fuzz(func(t *testing.T, topic string, payload []byte) {
		it := decodeInput(agent.Input{Topic: topic, Payload: payload})
		switch {
		case it.reject != nil:
			if it.reject.Reason == "" || len(it.reject.Raw) > agent.MaxRejectRaw {
				t.Fatalf("reject %+v", it.reject)
			}
		case it.ev == nil:
			t.Fatal("neither event nor reject")
		default:
			if err := it.ev.Validate(); err != nil {
				t.Fatalf("accepted an invalid event: %v", err)
			}
		}
	})
}
