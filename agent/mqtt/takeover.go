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
// session's in-flight messages, clears the old ones, and only then
// registers the new client, so a QoS 1 message routed to the old client
// object in between is lost (seen as a lost event in the agent's crash
// test). The hook records every message stored on the old object while a
// takeover is under way and, once the new session is established, queues
// and sends those the clone missed. A publish that looked the client up
// before the new one was registered can also reach the old object after
// the takeover has finished; the hook moves that one to the new session
// at once. A message it resends that was also
// delivered is a duplicate the agent drops by event id.
type takeoverHook struct {
	mochi.HookBase
	srv     *mochi.Server
	log     *slog.Logger
	pending sync.Map // client id -> *takeover
}

type takeover struct {
	old  *mochi.Client
	mu   sync.Mutex
	late []packets.Packet
}

func (h *takeoverHook) ID() string { return "passline-takeover" }

func (h *takeoverHook) Provides(b byte) bool {
	return b == mochi.OnSessionEstablish || b == mochi.OnSessionEstablished || b == mochi.OnQosPublish
}

func (h *takeoverHook) OnSessionEstablish(cl *mochi.Client, pk packets.Packet) {
	if old, ok := h.srv.Clients.Get(cl.ID); ok && !pk.Connect.Clean {
		h.pending.Store(cl.ID, &takeover{old: old})
	}
}

// OnQosPublish records messages stored on a client object being taken
// over, and moves to the new session a message stored on an object that
// was already replaced: a publish that looked the client up just before
// the new one was registered can reach the old object after the takeover
// has finished.
func (h *takeoverHook) OnQosPublish(cl *mochi.Client, pk packets.Packet, _ int64, resends int) {
	if resends > 0 || pk.FixedHeader.Type != packets.Publish {
		return
	}
	if v, ok := h.pending.Load(cl.ID); ok {
		t := v.(*takeover)
		if t.old != cl {
			return
		}
		t.mu.Lock()
		t.late = append(t.late, pk.Copy(true))
		t.mu.Unlock()
		return
	}
	if !cl.IsTakenOver() { // every delivery comes here: an atomic load, not the clients' lock
		return
	}
	if cur, ok := h.srv.Clients.Get(cl.ID); ok && cur != cl {
		h.log.Warn("takeover: message reached a replaced session; sending it on the new one", "client", cl.ID, "topic", pk.TopicName)
		h.resend(cur, pk.Copy(true))
	}
}

func (h *takeoverHook) OnSessionEstablished(cl *mochi.Client, _ packets.Packet) {
	v, ok := h.pending.LoadAndDelete(cl.ID)
	if !ok {
		return
	}
	t := v.(*takeover)
	t.mu.Lock()
	late := t.late
	t.mu.Unlock()
	for _, p := range late {
		if q, ok := cl.State.Inflight.Get(p.PacketID); ok && q.TopicName == p.TopicName && bytes.Equal(q.Payload, p.Payload) {
			continue // carried over by mochi's own clone
		}
		h.resend(cl, p)
	}
}

// resend queues p in cl's in-flight window under a fresh packet id and
// sends it.
func (h *takeoverHook) resend(cl *mochi.Client, p packets.Packet) {
	id, err := cl.NextPacketID()
	if err != nil {
		h.log.Error("takeover: no packet id left; message lost", "client", cl.ID, "topic", p.TopicName)
		return
	}
	p.PacketID = uint16(id)
	cl.State.Inflight.Set(p)
	if err := cl.WritePacket(p); err != nil {
		h.log.Warn("takeover: resend failed; it is resent on the next connect", "client", cl.ID, "err", err)
	}
}
