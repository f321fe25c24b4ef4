package mqtt

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/wire"
)

// ingestHook hands every device event published on the store's topics to
// the agent's writer from inside the embedded broker, before the broker
// acknowledges the publish. Mochi v2.7.9 runs OnPublish hooks before it
// writes the PUBACK (server.go processPublish) and only then routes the
// message to subscribers, so a subscriber that commits after delivery —
// the paho source — can lose a message the publisher already holds a
// PUBACK for, when the process dies in between. This hook returns only once
// the writer has committed the event (or stored it as a reject), so a
// PUBACK means "in the state db". A publisher's messages are taken one at
// a time (mochi reads a connection's packets in order), and the writer
// commits those of all connections waiting at that moment in one
// transaction.
//
// When the writer stops first, the hook refuses the publish with
// ErrRejectPacket: mochi then sends no PUBACK, and the publisher resends
// the message after it reconnects.
type ingestHook struct {
	mochi.HookBase
	store    string
	ingest   func(context.Context, agent.Input) error
	ctx      context.Context
	received atomic.Int64
}

func (h *ingestHook) ID() string { return "passline-ingest" }

func (h *ingestHook) Provides(b byte) bool { return b == mochi.OnPublish }

// OnPublish implements the mochi hook.
func (h *ingestHook) OnPublish(cl *mochi.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline || !storeEvent(h.store, pk.TopicName) {
		return pk, nil
	}
	h.received.Add(1)
	in := agent.Input{Topic: pk.TopicName, Payload: pk.Payload, Received: time.Now()}
	if err := h.ingest(h.ctx, in); err != nil {
		return pk, packets.ErrRejectPacket
	}
	return pk, nil
}

// storeEvent reports whether topic is a device event of store:
// passline/v1/{store}/{device}/{device_id}/{event}, not a command to a
// bridge output (passline/v1/{store}/cmd/...). Malformed device and event
// levels are events too: the writer keeps them as rejects.
func storeEvent(store, topic string) bool {
	rest, ok := strings.CutPrefix(topic, wire.TopicRoot+"/"+store+"/")
	if !ok {
		return false
	}
	parts := strings.Split(rest, "/")
	return len(parts) == 3 && parts[0] != "cmd"
}
