package agent

import "github.com/passline/passline/wire"

// Outbox is the agent's transactional outbox as the uplink drains it:
// decisions are appended in the same write transaction as the state change
// that caused them (see agent/bolt), read back in key order, and removed
// once the stream has them or the drop policy let them go. *bolt.DB is one.
type Outbox interface {
	// PeekOutboxAfter returns up to n entries with keys above after, in
	// key (decision) order.
	PeekOutboxAfter(after uint64, n int) ([]Entry, error)
	// RemoveOutbox deletes entries, counting drops by reason; a key
	// already gone is skipped.
	RemoveOutbox(rs []Removal) error
}

// Entry is one decision waiting in the outbox, with its key (keys strictly
// increase, so the outbox drains in decision order) and its encoded size.
type Entry struct {
	Key      uint64
	Decision wire.Decision
	Size     int
}

// Removal is an outbox entry to delete: published (Reason "") or dropped
// for one of the Drop reasons.
type Removal struct {
	Key    uint64
	Reason string
}

// Drop reasons of the outbox: why a decision left it unpublished.
const (
	DropExpired   = "expired"   // past its ExpiresAt
	DropCountdown = "countdown" // an eta update superseded by fresher ones
	DropFull      = "full"      // a non-critical decision with no room left
	DropInvalid   = "invalid"   // the Decider made a decision that fails wire validation
)
