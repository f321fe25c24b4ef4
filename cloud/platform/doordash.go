package platform

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/passline/passline/wire"
)

// DoorDashAdapter speaks the DoorDash Marketplace API.
//
// Outbound, the Order Ready Signal from a real bump
// (https://developer.doordash.com/docs/marketplace/how_to/order_ready_signal):
// PATCH /marketplace/api/v1/orders/{id}/events/order_ready_for_pickup with
// {"merchant_supplied_id": ...}, the order events endpoint the self-delivery
// guide documents
// (https://developer.doordash.com/es-US/docs/marketplace/retail/orders/features/self_delivery_enhancement).
// Predictions are not sent: the endpoint has no estimate field.
// Authentication is DoorDash's self-signed JWT
// (https://developer.doordash.com/en-US/docs/marketplace/how_to/JWTs):
// header {"alg":"HS256","typ":"JWT","dd-ver":"DD-JWT-V1"}, claims aud
// "doordash", iss the developer id, kid the key id, iat now, exp at most
// 30 minutes later, signed with the base64url-decoded signing secret, sent
// as a bearer token with "auth-version: v2".
//
// Inbound, the Dasher Status webhook
// (https://developer.doordash.com/docs/marketplace/how_to/dasher_status_webhooks):
// dasher_confirmed (assigned), arriving_at_store (near), arrived_at_store
// (arrived), dasher_out_for_delivery (picked up). DoorDash authenticates it
// with the "authorization details" the partner gives its Technical Account
// Manager: the receiver compares the Authorization header with the store's
// webhook secret. The docs name no delivery id, so a delivery's id is the
// SHA-256 of its body (the same status of the same order twice is a replay).
type DoorDashAdapter struct{ platformName }

// NewDoorDash returns the DoorDash adapter.
func NewDoorDash() *DoorDashAdapter { return &DoorDashAdapter{platformName{DoorDash, doordashBaseURL}} }

const (
	doordashBaseURL = "https://openapi.doordash.com"
	doordashJWTLife = 5 * time.Minute // DoorDash allows up to 30
)

// Plan sends the Order Ready Signal for a real ready and nothing else.
func (a *DoorDashAdapter) Plan(u Update, _ Credentials, _ time.Time) (Call, bool) {
	if u.Kind != wire.KindReady || !u.Kitchen() {
		return Call{}, false
	}
	b, _ := json.Marshal(map[string]string{"merchant_supplied_id": u.OrderID})
	return Call{Endpoint: "order_ready_for_pickup", Method: http.MethodPatch,
		Path: "/marketplace/api/v1/orders/" + url.PathEscape(u.Order.PlatformID) + "/events/order_ready_for_pickup", Body: b}, true
}

// DoorDashJWT is the self-signed token for the credentials at now.
func DoorDashJWT(c Credentials, now time.Time) (string, error) {
	key, err := base64.RawURLEncoding.DecodeString(trimPad(c.SigningSecret))
	if err != nil {
		return "", fmt.Errorf("doordash signing secret is not base64url: %w", err)
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"aud": "doordash", "iss": c.DeveloperID, "kid": c.KeyID,
		"iat": now.Unix(), "exp": now.Add(doordashJWTLife).Unix(),
	})
	tok.Header["dd-ver"] = "DD-JWT-V1"
	return tok.SignedString(key)
}

func trimPad(s string) string {
	for len(s) > 0 && s[len(s)-1] == '=' {
		s = s[:len(s)-1]
	}
	return s
}

// Authorize signs a fresh JWT per request.
func (a *DoorDashAdapter) Authorize(_ context.Context, _ *http.Client, req *http.Request, _ Call, c Credentials, now time.Time) error {
	tok, err := DoorDashJWT(c, now)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("auth-version", "v2")
	return nil
}

// Verify compares the Authorization header with the webhook secret.
func (a *DoorDashAdapter) Verify(w Webhook, c Credentials, _ time.Time) (string, error) {
	got := w.Header.Get("Authorization")
	if c.WebhookSecret == "" || got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(c.WebhookSecret)) != 1 {
		return "", ErrSignature
	}
	return bodyID(w.Body), nil
}

type doordashDasherStatus struct {
	DasherStatus    string    `json:"dasher_status"`
	ExternalOrderID string    `json:"external_order_id"`
	ClientOrderID   string    `json:"client_order_id"`
	CreatedAt       time.Time `json:"created_at"`
	Dasher          struct {
		ID string `json:"id"`
	} `json:"dasher"`
	Store struct {
		MerchantSuppliedID string `json:"merchant_supplied_id"`
	} `json:"store"`
}

// Events decodes a Dasher Status webhook. client_order_id is the
// merchant_supplied_id the POS confirmed the order with: the ticket's
// order id, so the first status links the order.
func (a *DoorDashAdapter) Events(w Webhook) ([]Event, error) {
	var d doordashDasherStatus
	if err := json.Unmarshal(w.Body, &d); err != nil {
		return nil, fmt.Errorf("doordash dasher status: %w", err)
	}
	if d.ExternalOrderID == "" {
		return nil, fmt.Errorf("doordash dasher status: no external_order_id")
	}
	var t EventType
	switch d.DasherStatus {
	case "dasher_confirmed":
		t = RiderAssigned
	case "arriving_at_store":
		t = RiderNear
	case "arrived_at_store":
		t = RiderArrived
	case "dasher_out_for_delivery":
		t = PickedUp
	default:
		return nil, nil
	}
	ev := Event{Type: t, PlatformID: d.ExternalOrderID, StoreRef: d.Store.MerchantSuppliedID, Rider: firstNonEmpty(d.Dasher.ID, d.ExternalOrderID+"#dasher"), At: d.CreatedAt}
	return linked(ev, d.ClientOrderID), nil
}
