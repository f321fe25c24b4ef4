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

// OpenDeliveryAdapter speaks the Open Delivery order API (the open standard
// Keeta and iFood implement), as Keeta documents it
// (https://api-docs.mykeeta.com/en/apis/opendelivery/orderapi/orderready):
//
//   - a real kitchen ready → POST {base}/v1/orders/{orderId}/readyForPickup,
//     no body, answered 202; security OAuth2 (scope od.all, client
//     credentials at {base}/oauth/token) and the X-App-Signature header.
//   - predictions are not sent: the order API has no estimate field.
//
// X-App-Signature: Keeta's "Signature Calculation" page says it is an
// HMAC-SHA256 with the client secret over a string made of the request URL,
// the query parameters and the body canonicalized per RFC 8785; the exact
// concatenation was not in the reference corpus. Passline signs URL
// (without query) + "?" + sorted query (when any) + body, hex encoded, and
// readyForPickup has neither query nor body, so the string is the URL.
// Verify this against the platform's page before production.
//
// Inbound, Open Delivery's order events (eventId, eventType, orderId,
// createdAt) with X-App-Signature over the body: CONFIRMED, DISPATCHED
// (picked up) and CANCELLED on known orders. CREATED carries no ticket
// code, so Open Delivery orders are linked to tickets by the POS; the
// order API carries no rider events.
type OpenDeliveryAdapter struct {
	tokens clientTokens
}

// NewOpenDelivery returns the Open Delivery adapter.
func NewOpenDelivery() *OpenDeliveryAdapter {
	return &OpenDeliveryAdapter{tokens: clientTokens{style: oauth2.AuthStyleInParams}}
}

// OpenDeliveryHeaderSignature carries Open Delivery's request signature.
const OpenDeliveryHeaderSignature = "X-App-Signature"

// OpenDeliveryScopes are the scopes requested when the credentials name
// none.
var OpenDeliveryScopes = []string{"od.all"}

// Platform is "opendelivery".
func (*OpenDeliveryAdapter) Platform() string { return OpenDelivery }

// BaseURL is empty: every Open Delivery platform has its own, set in the
// store's credentials.
func (*OpenDeliveryAdapter) BaseURL() string { return "" }

// Plan sends readyForPickup for a real ready only.
func (a *OpenDeliveryAdapter) Plan(u Update, c Credentials, _ time.Time) (Call, bool) {
	if u.Kind != wire.KindReady || !u.Kitchen() || c.BaseURL == "" {
		return Call{}, false
	}
	return Call{Endpoint: "readyForPickup", Method: http.MethodPost, Path: "/v1/orders/" + url.PathEscape(u.Order.PlatformID) + "/readyForPickup"}, true
}

// OpenDeliverySign is X-App-Signature for a request to rawURL with body.
func OpenDeliverySign(secret, rawURL string, body []byte) string {
	s := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		q := u.Query()
		u.RawQuery = ""
		s = u.String()
		if len(q) > 0 {
			s += "?" + q.Encode() // Encode sorts by key
		}
	}
	return hexMAC(secret, []byte(s), body)
}

// Authorize adds the bearer token and X-App-Signature.
func (a *OpenDeliveryAdapter) Authorize(_ context.Context, client *http.Client, req *http.Request, call Call, c Credentials, _ time.Time) error {
	scopes := c.Scopes
	if len(scopes) == 0 {
		scopes = OpenDeliveryScopes
	}
	tokenURL := firstNonEmpty(c.TokenURL, strings.TrimRight(c.BaseURL, "/")+"/oauth/token")
	if err := a.tokens.bearer(client, req, tokenURL, scopes, c); err != nil {
		return err
	}
	req.Header.Set(OpenDeliveryHeaderSignature, OpenDeliverySign(c.ClientSecret, req.URL.String(), call.Body))
	return nil
}

// Verify checks X-App-Signature over the body with the webhook secret; the
// delivery id is eventId.
func (a *OpenDeliveryAdapter) Verify(h http.Header, body []byte, c Credentials, _ time.Time) (string, error) {
	if !validHexMAC(h.Get(OpenDeliveryHeaderSignature), c.WebhookSecret, body) {
		return "", ErrSignature
	}
	var ev openDeliveryEvent
	if err := json.Unmarshal(body, &ev); err != nil || ev.EventID == "" {
		return "", fmt.Errorf("open delivery event without eventId")
	}
	return ev.EventID, nil
}

type openDeliveryEvent struct {
	EventID   string    `json:"eventId"`
	EventType string    `json:"eventType"`
	OrderID   string    `json:"orderId"`
	CreatedAt time.Time `json:"createdAt"`
}

// Events decodes an order event.
func (a *OpenDeliveryAdapter) Events(_ http.Header, body []byte) ([]Event, error) {
	var ev openDeliveryEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return nil, fmt.Errorf("open delivery event: %w", err)
	}
	if ev.OrderID == "" {
		return nil, fmt.Errorf("open delivery event: no orderId")
	}
	var t EventType
	switch ev.EventType {
	case "CONFIRMED":
		t = OrderAccepted
	case "DISPATCHED":
		t = PickedUp
	case "CANCELLED":
		t = Cancelled
	default:
		return nil, nil
	}
	return []Event{{Type: t, PlatformID: ev.OrderID, At: ev.CreatedAt}}, nil
}
