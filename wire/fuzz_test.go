package wire_test

import (
	"testing"
	"time"

	"github.com/passline/passline/wire"
)

// The fuzz targets check that decoders never panic and that whatever they
// accept encodes again and decodes to an accepted value.

func FuzzDecodeEvent(f *testing.F) {
	b, _ := ticketEvent(time.Now()).Marshal()
	f.Add("passline/v1/s1/printer/printer-1/ticket", b)
	f.Add("passline/v1/s1/bumpbar/b1/key", []byte(`{"v":1,"id":"x","kind":"key","store":"s1","device_id":"b1","at":"2026-11-24T00:00:00Z","key":{"action":"bump"}}`))
	f.Add("passline/v1/s1/scanner/sc1/scan", []byte(`{"v":1,"id":"x","kind":"scan","store":"s1","device_id":"sc1","at":"2026-11-24T00:00:00Z","scan":{"code":"o-42"}}`))
	f.Add("x", []byte(`{"v":1}`))
	f.Add("", []byte(`[`))
	f.Fuzz(func(t *testing.T, topic string, b []byte) {
		_, e, err := wire.DecodeEventOn(topic, b)
		if err != nil {
			return
		}
		out, err := e.Marshal()
		if err != nil {
			t.Fatalf("accepted event does not encode: %v", err)
		}
		if _, err := wire.DecodeEvent(out); err != nil {
			t.Fatalf("re-encoded event refused: %v", err)
		}
	})
}

func FuzzDecodeDecision(f *testing.F) {
	now := time.Now()
	b, _ := wire.Decision{ID: "d", Store: "s", OrderID: "o", Kind: wire.KindETA, CreatedAt: now, ExpiresAt: now.Add(time.Minute)}.Marshal()
	f.Add(b)
	f.Add([]byte(`{"v":1,"kind":"ready"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := wire.DecodeDecision(b)
		if err != nil {
			return
		}
		out, err := d.Marshal()
		if err != nil {
			t.Fatalf("accepted decision does not encode: %v", err)
		}
		if _, err := wire.DecodeDecision(out); err != nil {
			t.Fatalf("re-encoded decision refused: %v", err)
		}
	})
}

func FuzzDecodeNotification(f *testing.F) {
	b, _ := wire.Notification{ID: "d", Rider: "r", Store: "s", OrderID: "o", Kind: wire.KindReady, Text: "hi", SentAt: time.Now()}.Marshal()
	f.Add(b)
	b, _ = wire.Notification{ID: "d", Rider: "r", Store: "s", OrderID: "o", Kind: wire.KindReady, Text: "hi", SentAt: time.Now(), Version: 3, Resent: true}.Marshal()
	f.Add(b)
	f.Add([]byte(`{"v":1,"id":"d","rider":"r","store":"s","order_id":"o","kind":"eta","text":"x","sent_at":"2026-12-04T08:00:00Z","version":-1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := wire.DecodeNotification(b)
		if err != nil {
			return
		}
		out, err := n.Marshal()
		if err != nil {
			t.Fatalf("accepted notification does not encode: %v", err)
		}
		again, err := wire.DecodeNotification(out)
		if err != nil {
			t.Fatalf("re-encoded notification refused: %v", err)
		}
		if again.Version != n.Version || again.Resent != n.Resent || !again.Supersedes(n) || !n.Supersedes(again) {
			t.Fatalf("version lost in re-encoding: %d/%v -> %d/%v", n.Version, n.Resent, again.Version, again.Resent)
		}
	})
}

func FuzzDecodeAssignment(f *testing.F) {
	b, _ := wire.Assignment{Store: "s", OrderID: "o", Rider: "r", At: time.Now()}.Marshal()
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		if a, err := wire.DecodeAssignment(b); err == nil {
			if _, err := a.Marshal(); err != nil {
				t.Fatalf("accepted assignment does not encode: %v", err)
			}
		}
	})
}

func FuzzParseTopic(f *testing.F) {
	f.Add("passline/v1/s1/printer/p1/ticket")
	f.Fuzz(func(t *testing.T, s string) {
		tp, err := wire.ParseTopic(s)
		if err != nil {
			return
		}
		if tp.String() != s {
			t.Fatalf("round trip %q -> %q", s, tp.String())
		}
	})
}
