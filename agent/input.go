package agent

import (
	"time"

	"github.com/passline/passline/wire"
)

// Input is one thing for the agent's writer to apply: a raw MQTT message,
// or an event built by a local source (GPIO) with Event set.
type Input struct {
	Topic    string
	Payload  []byte
	Event    *wire.Event // set by local sources; Topic and Payload are then ignored
	Ack      func()      // called after the commit; nil for local sources
	Received time.Time
}

// Reject is a payload the agent refused, kept for inspection.
type Reject struct {
	Seq    uint64    `json:"seq"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
	Detail string    `json:"detail"`
	Topic  string    `json:"topic,omitempty"`
	Raw    []byte    `json:"raw,omitempty"` // the payload as received (base64 in JSON)
}

// MaxRejectRaw bounds the raw bytes kept per reject; the rest is cut.
const MaxRejectRaw = 4 << 10
