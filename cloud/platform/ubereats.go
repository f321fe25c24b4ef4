package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/passline/passline/wire"
)

// UberEatsAdapter speaks the Uber Eats Order API.
//
// Outbound, with a bearer token from Uber's client-credentials flow
// (POST https://auth.uber.com/oauth/v2/token, client id and secret in the
// form, scope eats.order; https://developer.uber.com/docs/eats/guides/authentication):
//
//   - a real kitchen ready → POST /v1/delivery/order/{order_id}/ready with {};
//   - a prediction (ready_soon, eta, delayed) → POST
//     /v1/delivery/order/{order_id}/update-ready-time with
//     {"ready_for_pickup_time": RFC 3339}, a future time: Uber's only
//     estimate field. Uber takes it only while the order is accepted, not
//     yet ready to hand off and can_adjust_ready_for_pickup_time is true; a
//     refusal is a 4xx, parked with its reason. Nothing is sent once the
//     kitchen said ready or the order was picked up or cancelled.
//
// Inbound, webhooks signed with X-Uber-Signature, the lowercase hex
// HMAC-SHA256 of the body keyed with the client secret; event_id is the
// delivery id, meta.user_id the store, meta.resource_id the order
// (https://developer.uber.com/docs/eats/references/api/webhooks.orders-notification).
type UberEatsAdapter struct {
	platformName
	*clientCredentials // scope eats.order unless the credentials name others
}

// NewUberEats returns the Uber Eats adapter.
func NewUberEats() *UberEatsAdapter {
	return &UberEatsAdapter{platformName{UberEats, uberBaseURL}, newClientCredentials(oauth2.AuthStyleInParams, uberTokenURL, "eats.order")}
}

const (
	uberBaseURL  = "https://api.uber.com"
	uberTokenURL = "https://auth.uber.com/oauth/v2/token"
	// UberHeaderSignature carries the webhook signature.
	UberHeaderSignature = "X-Uber-Signature"
)

// Plan maps u onto /ready or /update-ready-time.
func (a *UberEatsAdapter) Plan(u Update, _ Credentials, now time.Time) (Call, bool) {
	if u.Order.Status == "picked_up" || u.Order.Status == "cancelled" {
		return Call{}, false
	}
	base := "/v1/delivery/order/" + url.PathEscape(u.Order.PlatformID)
	switch u.Kind {
	case wire.KindReady:
		if !u.Kitchen() {
			return Call{}, false
		}
		return Call{Endpoint: "ready", Method: http.MethodPost, Path: base + "/ready", Body: []byte("{}")}, true
	case wire.KindReadySoon, wire.KindETA, wire.KindDelayed:
		if u.ETA == nil || !u.ETA.After(now) {
			return Call{}, false // Uber wants a future time
		}
		b, _ := json.Marshal(map[string]string{"ready_for_pickup_time": u.ETA.UTC().Format(time.RFC3339)})
		return Call{Endpoint: "update-ready-time", Method: http.MethodPost, Path: base + "/update-ready-time", Body: b}, true
	}
	return Call{}, false
}

// UberSign is the X-Uber-Signature of body.
func UberSign(clientSecret string, body []byte) string {
	return hexMAC(clientSecret, body)
}

// Verify checks X-Uber-Signature with the client secret; the delivery id
// is the body's event_id.
func (a *UberEatsAdapter) Verify(w Webhook, c Credentials, _ time.Time) (string, error) {
	if !validHexMAC(w.Header.Get(UberHeaderSignature), c.ClientSecret, w.Body) {
		return "", ErrSignature
	}
	var ev uberEvent
	if err := json.Unmarshal(w.Body, &ev); err != nil || ev.EventID == "" {
		return "", fmt.Errorf("uber eats webhook without event_id")
	}
	return ev.EventID, nil
}

type uberEvent struct {
	EventID   string `json:"event_id"`
	EventType string `json:"event_type"`
	EventTime int64  `json:"event_time"`
	Meta      struct {
		UserID        string `json:"user_id"`
		ResourceID    string `json:"resource_id"`
		Status        string `json:"status"`
		CourierTripID string `json:"courier_trip_id"`
	} `json:"meta"`
}

// Uber's courier statuses on delivery.state_changed, as Uber documents
// them for its delivery webhooks: assigned and on the way, at the store,
// on the way to the customer (picked up).
var uberCourier = map[string]EventType{
	"EN_ROUTE_TO_PICKUP":  RiderAssigned,
	"ARRIVED_AT_PICKUP":   RiderArrived,
	"EN_ROUTE_TO_DROPOFF": PickedUp,
}

// Events decodes an Uber Eats webhook: orders.notification (placed; the
// ticket code comes from Resolve), orders.release (the courier reached the
// store's geofence: near), delivery.state_changed (courier assigned, at
// the store, picked up), orders.cancel and orders.failure (cancelled).
// Other event types change nothing Passline keeps.
func (a *UberEatsAdapter) Events(w Webhook) ([]Event, error) {
	var ev uberEvent
	if err := json.Unmarshal(w.Body, &ev); err != nil {
		return nil, fmt.Errorf("uber eats webhook: %w", err)
	}
	if ev.Meta.ResourceID == "" {
		return nil, fmt.Errorf("uber eats webhook: no meta.resource_id")
	}
	out := Event{PlatformID: ev.Meta.ResourceID, StoreRef: ev.Meta.UserID, At: time.Unix(ev.EventTime, 0).UTC()}
	switch ev.EventType {
	case "orders.notification":
		out.Type = OrderPlaced
	case "orders.release":
		out.Type = RiderNear
	case "delivery.state_changed":
		t, ok := uberCourier[ev.Meta.Status]
		if !ok {
			return nil, nil
		}
		out.Type, out.Rider = t, firstNonEmpty(ev.Meta.CourierTripID, ev.Meta.ResourceID+"#courier")
	case "orders.cancel", "orders.failure":
		out.Type = Cancelled
	default:
		return nil, nil
	}
	return []Event{out}, nil
}

// uberOrder is the part of GET /v2/eats/order/{order_id} Passline reads.
type uberOrder struct {
	ID        string `json:"id"`
	DisplayID string `json:"display_id"`
	Store     struct {
		ID string `json:"id"`
	} `json:"store"`
	Eater struct {
		Phone     string `json:"phone"`
		PhoneCode string `json:"phone_code"`
	} `json:"eater"`
}

// Resolve reads the order (GET /v2/eats/order/{order_id}, scope
// eats.order) for its display_id, the code the ticket prints, and the
// eater's phone.
func (a *UberEatsAdapter) Resolve(ctx context.Context, client *http.Client, c Credentials, ev Event, now time.Time) (Event, error) {
	u := strings.TrimRight(firstNonEmpty(c.BaseURL, uberBaseURL), "/") + "/v2/eats/order/" + url.PathEscape(ev.PlatformID)
	var o uberOrder
	if err := getJSON(ctx, client, u, func(req *http.Request) error {
		return a.Authorize(ctx, client, req, Call{}, c, now)
	}, &o); err != nil {
		return ev, err
	}
	if o.DisplayID == "" {
		return ev, fmt.Errorf("uber eats order %s has no display_id", ev.PlatformID)
	}
	ev.OrderCode, ev.CustomerPhone = o.DisplayID, o.Eater.Phone
	if ev.StoreRef == "" {
		ev.StoreRef = o.Store.ID
	}
	return ev, nil
}
