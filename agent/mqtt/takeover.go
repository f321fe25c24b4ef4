package mqtt

import (
	"bytes"
	"log/slog"
	"sync"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// takeoverHook closes a gap in mochi-mqtt's session takeover: when a
// client reconnects to a persistent session, mochi clones the old
// session's in-flight messages and only then registers the new client, so
// a QoS 1 message routed to the old client object in between is stored
// there and lost (seen as a lost event in the agent's crash test). The hook
// remembers which in-flight ids the old session had before the takeover
// and, once the new session is established, queues and sends every message
// that landed on the old object afterwards. A message it resends that was
// also delivered is a duplicate the agent drops by event id.
type takeoverHook struct {
	mochi.HookBase
	srv     *mochi.Server
	log     *slog.Logger
	pending sync.Map // client id -> *takeover
}

type takeover struct {
	old    *mochi.Client
	before map[uint16]bool
}

func (h *takeoverHook) ID() string { return "passline-takeover" }

func (h *takeoverHook) Provides(b byte) bool {
	return b == mochi.OnSessionEstablish || b == mochi.OnSessionEstablished
}

func (h *takeoverHook) OnSessionEstablish(cl *mochi.Client, pk packets.Packet) {
	old, ok := h.srv.Clients.Get(cl.ID)
	if !ok || pk.Connect.Clean {
		return
	}
	before := map[uint16]bool{}
	for _, p := range old.State.Inflight.GetAll(false) {
		before[p.PacketID] = true
	}
	h.pending.Store(cl.ID, &takeover{old: old, before: before})
}

func (h *takeoverHook) OnSessionEstablished(cl *mochi.Client, _ packets.Packet) {
	v, ok := h.pending.LoadAndDelete(cl.ID)
	if !ok {
		return
	}
	t := v.(*takeover)
	for _, p := range t.old.State.Inflight.GetAll(false) {
		if t.before[p.PacketID] || p.FixedHeader.Type != packets.Publish {
			continue
		}
		if q, ok := cl.State.Inflight.Get(p.PacketID); ok && q.TopicName == p.TopicName && bytes.Equal(q.Payload, p.Payload) {
			continue // carried over by mochi's own clone
		}
		id, err := cl.NextPacketID()
		if err != nil {
			h.log.Error("takeover: no packet id left; message stays lost", "client", cl.ID, "topic", p.TopicName)
			continue
		}
		p.PacketID = uint16(id)
		cl.State.Inflight.Set(p)
		if err := cl.WritePacket(p); err != nil {
			h.log.Warn("takeover: resend failed; it is resent on the next connect", "client", cl.ID, "err", err)
		}
	}
}
