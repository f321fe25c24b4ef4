package platform

import (
	"context"
	"encoding/base64"
	"encoding/hex"
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
// X-App-Signature, as Keeta's "Signature Calculation" pages give it
// (https://api-docs.mykeeta.com/en/apis/opendelivery/signature-calculation,
// .../signature-calculation/examples): Base64 of HMAC-SHA256 over the base
// URL without query, then "&" and the query parameters sorted by name as
// k=v joined with "&" (when there are any), then "&" and the JSON body
// (when not empty or {}), keyed with the client secret (the page says "a
// secret key"; the client secret is Passline's reading). readyForPickup has
// neither query nor body, so the string is the URL. The page asks for the
// body in RFC 8785 canonical form while its own example keeps the keys
// unsorted; Passline's bodies are compact json.Marshal output (sorted map
// keys), which is canonical for the bodies it sends.
//
// Inbound: order events (POST {webhook}/v1/newEvent) and logistics
// Tracking Events (POST {webhook}/v1/newLogisticEvent), see Events.
type OpenDeliveryAdapter struct {
	platformName       // no default base URL: every Open Delivery platform has its own
	*clientCredentials // token at {base}/oauth/token, scope od.all
}

// NewOpenDelivery returns the Open Delivery adapter.
func NewOpenDelivery() *OpenDeliveryAdapter {
	return &OpenDeliveryAdapter{platformName{OpenDelivery, ""}, newClientCredentials(oauth2.AuthStyleInParams, "", "od.all")}
}

// OpenDeliveryHeaderSignature carries Open Delivery's request signature.
const OpenDeliveryHeaderSignature = "X-App-Signature"

// Plan sends readyForPickup for a real ready only.
func (a *OpenDeliveryAdapter) Plan(u Update, c Credentials, _ time.Time) (Call, bool) {
	if u.Kind != wire.KindReady || !u.Kitchen() || c.BaseURL == "" {
		return Call{}, false
	}
	return Call{Endpoint: "readyForPickup", Method: http.MethodPost, Path: "/v1/orders/" + url.PathEscape(u.Order.PlatformID) + "/readyForPickup"}, true
}

// OpenDeliverySign is X-App-Signature for a request to rawURL with body:
// Base64 HMAC-SHA256 of URL [& sorted query] [& body].
func OpenDeliverySign(secret, rawURL string, body []byte) string {
	s := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		q := u.Query()
		u.RawQuery = ""
		s = u.String()
		if len(q) > 0 {
			s += "&" + q.Encode() // Encode sorts by key
		}
	}
	if b := strings.TrimSpace(string(body)); b != "" && b != "{}" {
		s += "&" + b
	}
	sum, _ := hex.DecodeString(hexMAC(secret, []byte(s)))
	return base64.StdEncoding.EncodeToString(sum)
}

// Authorize adds the bearer token and X-App-Signature.
func (a *OpenDeliveryAdapter) Authorize(ctx context.Context, client *http.Client, req *http.Request, call Call, c Credentials, now time.Time) error {
	if err := a.clientCredentials.Authorize(ctx, client, req, call, c, now); err != nil {
		return err
	}
	req.Header.Set(OpenDeliveryHeaderSignature, OpenDeliverySign(c.ClientSecret, req.URL.String(), call.Body))
	return nil
}

// Open Delivery webhook headers (https://api-docs.mykeeta.com/en/apis/opendelivery/development-guides/orders/webhook).
const (
	OpenDeliveryHeaderMerchant = "X-App-MerchantId"
	OpenDeliveryHeaderApp      = "X-App-Id"
)

// OpenDeliveryHookSign is the X-App-Signature of a webhook body: the hex
// HMAC-SHA256 of the body keyed with the client secret.
func OpenDeliveryHookSign(clientSecret string, body []byte) string {
	return hexMAC(clientSecret, body)
}

// Verify checks X-App-Signature, the HMAC-SHA256 of the body keyed with
// the client secret, hex or Base64 (Keeta's English page names no
// encoding, its Portuguese page says Base64). The delivery id is the order
// event's eventId; a logistics event names none, so it is the body's hash.
func (a *OpenDeliveryAdapter) Verify(w Webhook, c Credentials, _ time.Time) (string, error) {
	if !validMAC(w.Header.Get(OpenDeliveryHeaderSignature), c.ClientSecret, w.Body) {
		return "", ErrSignature
	}
	var ev openDeliveryEvent
	if err := json.Unmarshal(w.Body, &ev); err != nil {
		return "", fmt.Errorf("open delivery webhook: %w", err)
	}
	return firstNonEmpty(ev.EventID, bodyID(w.Body)), nil
}

type openDeliveryEvent struct {
	EventID   string    `json:"eventId"`
	EventType string    `json:"eventType"`
	OrderID   string    `json:"orderId"`
	CreatedAt time.Time `json:"createdAt"`
}

// openDeliveryLogistic is the Tracking Event webhook's DeliveryOrderEvent
// (POST {webhook}/v1/newLogisticEvent).
type openDeliveryLogistic struct {
	DeliveryID     string `json:"deliveryId"`
	OrderID        string `json:"orderId"`
	OrderDisplayID string `json:"orderDisplayId"`
	Merchant       struct {
		ID string `json:"id"`
	} `json:"merchant"`
	Event struct {
		Type     string    `json:"type"`
		Datetime time.Time `json:"datetime"`
	} `json:"event"`
	ETA struct {
		PickupEtaDatetime time.Time `json:"pickupEtaDatetime"`
	} `json:"eta"`
	DeliveryPerson struct {
		ID string `json:"id"`
	} `json:"deliveryPerson"`
}

// Open Delivery's delivery event types Passline applies.
var openDeliveryCourier = map[string]EventType{
	"ACCEPTED":            RiderAssigned,
	"PICKUP_ONGOING":      RiderAssigned,
	"ARRIVED_AT_MERCHANT": RiderArrived,
	"ORDER_PICKED":        PickedUp,
}

// Events decodes an order event (CONFIRMED, DISPATCHED = picked up,
// CANCELLED on known orders) or a logistics Tracking Event, which carries
// the order's display id (the ticket's code, so it links the order) and
// drives assignment, arrival and pickup. X-App-MerchantId (and a logistics
// event's merchant.id) is the store.
func (a *OpenDeliveryAdapter) Events(w Webhook) ([]Event, error) {
	var l openDeliveryLogistic
	if err := json.Unmarshal(w.Body, &l); err != nil {
		return nil, fmt.Errorf("open delivery webhook: %w", err)
	}
	merchant := w.Header.Get(OpenDeliveryHeaderMerchant)
	if l.DeliveryID != "" {
		return openDeliveryLogisticEvents(l, merchant)
	}
	var ev openDeliveryEvent
	if err := json.Unmarshal(w.Body, &ev); err != nil {
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
	return []Event{{Type: t, PlatformID: ev.OrderID, StoreRef: merchant, At: ev.CreatedAt}}, nil
}

func openDeliveryLogisticEvents(l openDeliveryLogistic, merchant string) ([]Event, error) {
	if l.OrderID == "" {
		return nil, fmt.Errorf("open delivery tracking event: no orderId")
	}
	if l.Merchant.ID != "" && merchant != "" && l.Merchant.ID != merchant {
		return nil, fmt.Errorf("open delivery tracking event: merchant.id %s is not X-App-MerchantId %s", l.Merchant.ID, merchant)
	}
	t, ok := openDeliveryCourier[l.Event.Type]
	if !ok {
		return nil, nil
	}
	ev := Event{Type: t, PlatformID: l.OrderID, StoreRef: firstNonEmpty(merchant, l.Merchant.ID), At: l.Event.Datetime,
		Rider: firstNonEmpty(l.DeliveryPerson.ID, l.DeliveryID)}
	if t == RiderAssigned && l.ETA.PickupEtaDatetime.After(l.Event.Datetime) {
		ev.TravelSeconds = int(l.ETA.PickupEtaDatetime.Sub(l.Event.Datetime).Seconds())
	}
	return linked(ev, l.OrderDisplayID), nil
}
