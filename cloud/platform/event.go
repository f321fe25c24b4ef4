package platform

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"
)

// EventType is what a platform's webhook told Passline.
type EventType string

// Event types, in an order's usual sequence.
const (
	OrderPlaced   EventType = "order_placed"
	OrderAccepted EventType = "order_accepted"
	RiderAssigned EventType = "rider_assigned"
	RiderNear     EventType = "rider_near"    // close to the store
	RiderArrived  EventType = "rider_arrived" // at the store
	PickedUp      EventType = "picked_up"
	Cancelled     EventType = "cancelled"
)

// Event is one platform webhook event in Passline's terms.
type Event struct {
	Type       EventType
	PlatformID string // the platform's order id
	// StoreRef is the platform's id of the store when the payload names
	// it; an event for another store than the receiver's is refused.
	StoreRef string
	// OrderCode is the order's short code the ticket prints (Passline's
	// order id); set on placed and accepted.
	OrderCode     string
	Rider         string // platform rider id, when given
	TravelSeconds int    // rider's expected travel to the store, when given
	PrepareFor    time.Time
	Locale        string // customer's
	CustomerPhone string
	At            time.Time // when it happened, by the platform's clock
}

// Webhook is one delivery as the receiver got it.
type Webhook struct {
	Header http.Header
	Body   []byte
	// URL is the URL the platform called, without its query: scheme
	// (https unless the request came in plain, or X-Forwarded-Proto
	// says otherwise), host and path. Meituan signs it.
	URL string
}

// Inbound reads one platform's webhooks.
type Inbound interface {
	// Platform is the platform's name.
	Platform() string
	// Verify checks the delivery's signature with the store's credentials
	// and returns the platform's delivery id (unique per delivery, for
	// replay refusal).
	Verify(w Webhook, c Credentials, now time.Time) (deliveryID string, err error)
	// Events decodes the delivery.
	Events(w Webhook) ([]Event, error)
}

// Resolver is an Inbound whose order events do not carry the ticket's
// code (Uber Eats' orders.notification): Resolve asks the platform's API
// for the order and returns the event completed with the code and, when
// the platform shares them, the customer's phone and locale.
type Resolver interface {
	Resolve(ctx context.Context, client *http.Client, c Credentials, ev Event, now time.Time) (Event, error)
}

// Acknowledger is an Inbound whose platform wants a body in the 200 that
// accepts a delivery (Meituan: {"data":"ok"}).
type Acknowledger interface {
	Ack() []byte
}

// bodyID is the delivery id of a platform that names none: the SHA-256 of
// the body, so the same body twice is a replay.
func bodyID(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:])
}

// ErrSignature is a missing or wrong webhook signature.
var ErrSignature = errors.New("bad or missing webhook signature")

// hexMAC is the lowercase hex HMAC-SHA256 of parts, keyed with key: the
// signature form every platform here uses.
func hexMAC(key string, parts ...[]byte) string {
	m := hmac.New(sha256.New, []byte(key))
	for _, p := range parts {
		m.Write(p)
	}
	return hex.EncodeToString(m.Sum(nil))
}

// validHexMAC reports whether sig (hex, any case) is the HMAC-SHA256 of
// parts keyed with key, compared in constant time. An empty key or sig is
// never valid.
func validHexMAC(sig, key string, parts ...[]byte) bool {
	got, err := hex.DecodeString(strings.ToLower(sig))
	if err != nil || len(got) == 0 || key == "" {
		return false
	}
	want, _ := hex.DecodeString(hexMAC(key, parts...))
	return hmac.Equal(want, got)
}

// validMAC is validHexMAC that also takes the MAC in standard Base64.
func validMAC(sig, key string, parts ...[]byte) bool {
	if validHexMAC(sig, key, parts...) {
		return true
	}
	got, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(got) == 0 || key == "" {
		return false
	}
	want, _ := hex.DecodeString(hexMAC(key, parts...))
	return hmac.Equal(want, got)
}

// linked is ev preceded, when the platform named the order's code, by the
// event that links the order to its ticket (OrderAccepted with the code),
// so a courier event can be the first Passline hears of an order.
func linked(ev Event, code string) []Event {
	if code == "" {
		return []Event{ev}
	}
	link := ev
	link.Type, link.OrderCode, link.Rider, link.TravelSeconds = OrderAccepted, code, "", 0
	return []Event{link, ev}
}
