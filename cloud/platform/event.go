package platform

import (
	"crypto/hmac"
	"crypto/sha256"
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

// Inbound reads one platform's webhooks.
type Inbound interface {
	// Platform is the platform's name.
	Platform() string
	// Verify checks the request's signature with the store's credentials
	// and returns the platform's delivery id (unique per delivery, for
	// replay refusal).
	Verify(h http.Header, body []byte, c Credentials, now time.Time) (deliveryID string, err error)
	// Events decodes the body.
	Events(h http.Header, body []byte) ([]Event, error)
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
