package relay

import (
	"context"
	"time"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/wire"
)

// Mark records which channels a decision was delivered on (or failed on
// for good). A decision whose mark lists every channel is a duplicate.
type Mark struct {
	Channels []string  `json:"channels"`
	At       time.Time `json:"at"`
}

// Marks remembers delivered decisions by id, for longer than JetStream's
// duplicate window, for the channels that keep no delivery record of their
// own (see RecordingChannel): with the rider channel alone the relay never
// uses them.
type Marks interface {
	// Get returns the mark and its revision; revision 0 means none.
	Get(ctx context.Context, id string) (Mark, uint64, error)
	// Save creates the mark when rev is 0 (failing if one appeared
	// meanwhile) or replaces revision rev.
	Save(ctx context.Context, id string, m Mark, rev uint64) error
}

// Assignments stores which rider carries which order.
type Assignments interface {
	Get(ctx context.Context, store, order string) (wire.Assignment, bool, error)
	Put(ctx context.Context, a wire.Assignment) error
}

// Pending keeps decisions that wait for their order's rider.
type Pending interface {
	// Park keeps the raw decision until its order is assigned or it expires.
	Park(ctx context.Context, d wire.Decision, raw []byte) error
	// Release hands every parked decision of the order back for delivery
	// and returns how many it released.
	Release(ctx context.Context, store, order string) (int, error)
}

// ETALimit allows at most one eta per order per interval. A redelivery of
// the allowed decision is allowed again.
type ETALimit interface {
	AllowETA(ctx context.Context, d wire.Decision) (bool, error)
}

// OrderView keeps each order's latest status for the API.
type OrderView interface {
	Update(ctx context.Context, d wire.Decision) error
}

// Gate is an outbound limit such as a per-merchant tier limit. Allow
// reports whether the notification may go out now.
type Gate interface {
	Allow(ctx context.Context, merchant string, d wire.Decision) (bool, error)
}

// Profile is what the relay knows of a store.
type Profile struct {
	Name     string `json:"name,omitempty"`
	Merchant string `json:"merchant,omitempty"` // templates are looked up by merchant; default the store id
	Locale   string `json:"locale,omitempty"`
	Shelf    string `json:"shelf,omitempty"` // pickup shelf
	Tone     string `json:"tone,omitempty"`
	// ModelText lets the Phraser rewrite this store's texts.
	ModelText bool `json:"model_text,omitempty"`
}

// Profiles looks up a store's profile; unknown stores get a zero Profile.
type Profiles interface {
	Profile(store string) Profile
}

// Renderer renders the text of a notification from facts.
type Renderer interface {
	Render(merchant string, f cloud.Facts, orderID string) (text string, version uint64, err error)
}

// AsyncChannel is a channel that starts a delivery and reports its outcome
// later, so the relay keeps many deliveries in flight without a goroutine
// waiting on each. done runs once, possibly on the channel's own goroutine,
// and must not block. The rider channel is one; webhook and SMS are plain
// channels, run on the Fanout's workers.
type AsyncChannel interface {
	cloud.Channel
	DeliverAsync(n wire.Notification, done func(error))
}

// RecordingChannel is a channel whose delivery is its own record: it
// refuses a repeat of a notification id with cloud.ErrDuplicate for at
// least as long as the marks would remember it. The relay keeps no mark for
// such a channel; when every channel records, it reads and writes no marks
// at all.
type RecordingChannel interface {
	cloud.Channel
	RecordsDeliveries() bool
}

// RiderlessChannel is a channel whose audience is the order, not its
// rider (a delivery platform, the order's customer): NeedsRider false means
// the relay delivers to it as soon as the decision arrives, whether or not
// a rider is assigned, and parks the decision only for the channels that
// need the rider. A channel that does not implement it needs the rider.
type RiderlessChannel interface {
	cloud.Channel
	NeedsRider() bool
}

// RiderChannelName is the name of the channel that delivers to the
// rider's own app and page (natsjs.RiderChannel).
const RiderChannelName = "rider"

// Resends re-sends, once, a ready its rider has not acknowledged. Schedule
// is called with every ready delivered to the rider (and again when the
// decision is redelivered); it must keep the pending re-send in durable,
// shared state, not in a replica's memory, and must send it at most once
// however often it is scheduled and whichever replica sends it.
type Resends interface {
	Schedule(ctx context.Context, n wire.Notification) error
}
