// Package cloud holds the relay's domain: what a channel that delivers rider
// notifications looks like, and the facts a notification text is made from.
// Each technology lives in a subpackage named after it; the program is wired
// in cloud/app and started by cloud/cmd/passline-cloud.
package cloud

import (
	"context"
	"errors"

	"github.com/passline/passline/wire"
)

// Channel delivers a rendered notification one way: the rider NATS subject,
// a webhook, SMS. Channels are independent: one failing or hanging never
// blocks another. Deliver must honour ctx's deadline. An error is retryable
// unless it wraps ErrPermanent.
type Channel interface {
	Name() string
	Deliver(ctx context.Context, n wire.Notification) error
}

// Facts are what a notification's text may say: the template's slots.
type Facts struct {
	Kind      wire.DecisionKind
	ShortCode string // order short code, e.g. "#23"
	StoreName string
	Minutes   *int   // minutes until ready, when known
	Shelf     string // pickup shelf
	Locale    string // "zh-CN" or "en"
	Tone      string // merchant's tone, for generated text
}

// Phraser writes a notification text from facts. It returns the text and
// true when it produced a verified text, or fallback and false otherwise. It
// must return within ctx's deadline whatever its backend does.
type Phraser interface {
	Phrase(ctx context.Context, f Facts, fallback string) (text string, ok bool)
}

// ErrPermanent marks a delivery error that retrying cannot fix (a 4xx from a
// webhook, a rejected phone number).
var ErrPermanent = errPermanent{}

type errPermanent struct{}

func (errPermanent) Error() string { return "permanent delivery failure" }

// ErrDuplicate means the channel had already delivered a notification with
// this id and refused the repeat: the delivery happened, once. Only a
// channel that keeps its own delivery record returns it.
var ErrDuplicate = errors.New("already delivered")

// ErrNotYet means a channel that needs no rider (relay.RiderlessChannel)
// cannot place the notification yet (a platform has not linked the order
// to its ticket): the relay neither retries nor marks it, and delivers it
// again with the rider, when the order's assignment releases it. Only
// returned for a notification without a rider.
var ErrNotYet = errors.New("not yet: deliver again with the rider")

// ErrUnknownOrder means no order of that id is known at that store for
// that rider: never seen, expired from the order view, or assigned to
// another rider.
var ErrUnknownOrder = errors.New("unknown order")
