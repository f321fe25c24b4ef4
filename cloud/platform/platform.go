// Package platform connects stores to delivery platforms (Open Delivery,
// Deliveroo, Uber Eats, DoorDash, Meituan): outbound, a cloud.Channel per
// platform tells the platform's order API what the kitchen did; inbound, an
// HTTP receiver per platform verifies the platform's webhooks and turns
// them into Passline's events (order placed, rider assigned, rider arrived,
// picked up, cancelled).
//
// Only a real kitchen event ever becomes a platform's "ready" or "ready
// soon": a decision reaches an Adapter as an Update whose EventID names the
// kitchen event, and an Update without one (a prediction) may only fill a
// platform's estimate fields (a ready-time update, a delay). Every adapter's
// Plan enforces this; the tests check it against each platform's fake.
//
// The package knows nothing of NATS: credentials, order records, replay
// marks and dead letters are the small interfaces below, implemented by
// cloud/natsjs and by fakes in tests.
package platform

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/passline/passline/wire"
)

// Platform names, as they appear in channel names ("platform:deliveroo"),
// API paths and KV keys.
const (
	OpenDelivery = "opendelivery"
	Deliveroo    = "deliveroo"
	UberEats     = "ubereats"
	DoorDash     = "doordash"
	Meituan      = "meituan"
)

// Names lists every supported platform.
var Names = []string{OpenDelivery, Deliveroo, UberEats, DoorDash, Meituan}

// Update is what a platform may hear of one decision about one of its
// orders.
type Update struct {
	DecisionID string // stable across retries: the idempotency key
	Store      string
	OrderID    string // Passline's order id: the code printed on the ticket
	Kind       wire.DecisionKind
	// EventID names the kitchen event that caused the decision (a bump, a
	// scale reading); empty for a prediction.
	EventID   string
	ETA       *time.Time // predicted (or, for a kitchen ready_soon, announced) ready time
	DecidedAt time.Time
	Flags     []string // the decision's flags (wire.FlagCookStart, ...)
	Order     Order    // the platform order the decision is about
}

// Kitchen reports whether a real kitchen event caused the update; only
// such an update may become a platform's ready or ready-soon.
func (u Update) Kitchen() bool { return u.EventID != "" }

// CookStart reports whether a real kitchen event started cooking the
// order with this update (wire.FlagCookStart).
func (u Update) CookStart() bool { return u.Kitchen() && slices.Contains(u.Flags, wire.FlagCookStart) }

// Call is one request to a platform's API, relative to the store's base URL.
type Call struct {
	// Endpoint names the API operation ("prep_stage"); each has its own
	// breaker per base URL.
	Endpoint string
	Method   string
	Path     string // appended to Credentials.BaseURL (or the adapter's default)
	Query    string // raw query, without '?'; some platforms sign it
	Body     []byte // JSON unless ContentType says otherwise
	// ContentType defaults to application/json.
	ContentType string
}

// Adapter maps Passline's updates onto one platform's order API.
type Adapter interface {
	// Platform is the platform's name, one of Names.
	Platform() string
	// Plan returns the call that tells the platform about u, or false when
	// the platform is not told (a prediction the platform has no field
	// for, an order state the platform cannot take). now is the wall
	// clock, for timestamps the platform bounds.
	Plan(u Update, c Credentials, now time.Time) (Call, bool)
	// Authorize adds the platform's authentication to req (a bearer token
	// from the OAuth 2 token endpoint, a self-signed JWT, a parameter
	// signature), using client for any token request.
	Authorize(ctx context.Context, client *http.Client, req *http.Request, call Call, c Credentials, now time.Time) error
	// BaseURL is the API root used when the credentials name none.
	BaseURL() string
}

// ResponseChecker is an Adapter whose platform reports some refusals in
// a 2xx body (Meituan answers 200 {"data":"ng","error":{...}}).
// CheckResponse returns the refusal, which is permanent.
type ResponseChecker interface {
	CheckResponse(body []byte) error
}

// Order is Passline's record of one platform order: the link between the
// ticket's order id and the platform's, and the platform's own timeline.
// It is the ground truth for how long riders really waited: RiderWait is
// PickedUpAt - RiderArrivedAt, both as the platform reported them. Zero
// times were never reported. Kept in KV PASSLINE_PLATFORM_ORDERS.
type Order struct {
	Store      string `json:"store"`
	OrderID    string `json:"order_id"` // Passline's: the code the ticket prints
	Platform   string `json:"platform"`
	PlatformID string `json:"platform_order_id"` // the platform's own order id
	// Status is the last state Passline heard: placed, accepted,
	// picked_up or cancelled.
	Status string `json:"status"`
	// PrepareFor is the ready time the platform expects (Deliveroo's
	// prepare_for), when it gave one.
	PrepareFor time.Time `json:"prepare_for,omitzero"`
	// Customer is how to reach the customer outside the platform, when
	// the platform shares it; Locale is the customer's language.
	CustomerPhone string `json:"customer_phone,omitempty"`
	Locale        string `json:"locale,omitempty"`

	PlacedAt        time.Time `json:"placed_at,omitzero"`
	AcceptedAt      time.Time `json:"accepted_at,omitzero"`
	Rider           string    `json:"rider,omitempty"`
	RiderAssignedAt time.Time `json:"rider_assigned_at,omitzero"`
	// RiderNearAt is when the platform said the rider was close to the
	// store (Deliveroo rider_arrived, DoorDash arriving_at_store).
	RiderNearAt time.Time `json:"rider_near_at,omitzero"`
	// RiderArrivedAt is when the platform said the rider was at the
	// store (Deliveroo rider_confirmed_at_restaurant, DoorDash
	// arrived_at_store); the first report counts.
	RiderArrivedAt time.Time `json:"rider_arrived_at,omitzero"`
	PickedUpAt     time.Time `json:"picked_up_at,omitzero"`
	CancelledAt    time.Time `json:"cancelled_at,omitzero"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// RiderWait is how long the rider waited at the store: from arrival to
// pickup, or false when either is unknown.
func (o Order) RiderWait() (time.Duration, bool) {
	if o.RiderArrivedAt.IsZero() || o.PickedUpAt.IsZero() {
		return 0, false
	}
	return max(o.PickedUpAt.Sub(o.RiderArrivedAt), 0), true
}

// Orders keeps order records.
type Orders interface {
	// Get returns the store's record of order (Passline's id).
	Get(ctx context.Context, store, order string) (Order, bool, error)
	// ByPlatformID returns the record of the platform's order id, whatever
	// the store.
	ByPlatformID(ctx context.Context, platform, id string) (Order, bool, error)
	// Update applies fn to the record of (store, order), creating it from
	// fn(zero Order) when missing, and saves it atomically (retrying fn on
	// a concurrent change).
	Update(ctx context.Context, store, order string, fn func(*Order) error) (Order, error)
}

// CredentialStore keeps each store's platform credentials.
type CredentialStore interface {
	Get(ctx context.Context, store, platform string) (Credentials, bool, error)
}

// Seen remembers webhook delivery ids to refuse replays.
type Seen interface {
	// First records key and reports whether it was new.
	First(ctx context.Context, key string) (bool, error)
	// Forget drops key, so a delivery that failed inside can be retried.
	Forget(ctx context.Context, key string) error
}

// DeadLetters parks what a platform refused for good, with the reason.
type DeadLetters interface {
	Park(ctx context.Context, n wire.Notification, channel, reason string) error
}

// ErrUnknownPlatform is returned for a platform name not in Names.
var ErrUnknownPlatform = errors.New("unknown platform")

// Valid reports whether name is a supported platform.
func Valid(name string) bool {
	for _, n := range Names {
		if n == name {
			return true
		}
	}
	return false
}
