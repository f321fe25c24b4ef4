package platform

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"

	"github.com/passline/passline/wire"
)

// DeliverooAdapter speaks Deliveroo's Order API.
//
// Outbound, POST /order/v1/orders/{order_id}/prep_stage
// (https://api-docs.deliveroo.com/docs/prep-stages-endpoint) with a bearer
// token from Deliveroo's OAuth 2 client-credentials flow, client id and
// secret in a Basic header (https://api-docs.deliveroo.com/docs/authentication):
//
//   - a real kitchen ready → stage ready_for_collection;
//   - a kitchen event at most 60 s from ready → ready_for_collection_soon
//     (Deliveroo: "food is a maximum of 60s from being ready"); a predicted
//     ready_soon never is;
//   - cook start (a decision flagged wire.FlagCookStart, made when a real
//     kitchen event started the order) → in_kitchen, with delay when the
//     predicted ready time already runs past Deliveroo's prepare_for;
//   - a prediction that the kitchen runs late (delayed) → in_kitchen with
//     delay, the lateness rounded up to 0, 2, 4, 6, 8 or 10 minutes: the
//     only estimate field the endpoint has;
//   - occurred_at is the decision time, which Deliveroo wants within the
//     last hour and at most 5 minutes ahead: an older decision is not sent,
//     one stamped further ahead (a store clock running fast) is sent as now.
//
// Inbound, the order events webhook (order.new, order.status_update) and
// the rider events webhook (rider.status_update), signed with
// X-Deliveroo-Hmac-Sha256 = hex HMAC-SHA256(webhook secret,
// X-Deliveroo-Sequence-Guid + " " + body)
// (https://api-docs.deliveroo.com/docs/securing-webhooks).
type DeliverooAdapter struct {
	platformName
	*clientCredentials
}

// NewDeliveroo returns the Deliveroo adapter.
func NewDeliveroo() *DeliverooAdapter {
	return &DeliverooAdapter{platformName{Deliveroo, deliverooBaseURL}, newClientCredentials(oauth2.AuthStyleInHeader, deliverooTokenURL)}
}

// Deliveroo's documented values.
const (
	deliverooBaseURL  = "https://api.developers.deliveroo.com"
	deliverooTokenURL = "https://auth.developers.deliveroo.com/oauth2/token"

	deliverooInKitchen = "in_kitchen"
	deliverooSoon      = "ready_for_collection_soon"
	deliverooReady     = "ready_for_collection"

	deliverooSoonMax   = 60 * time.Second
	deliverooPastMax   = time.Hour
	deliverooFutureMax = 5 * time.Minute
	deliverooMaxDelay  = 10 // minutes; delay is one of 0, 2, 4, 6, 8, 10
)

// DeliverooPrepStage is the prep_stage request body.
type DeliverooPrepStage struct {
	Stage      string `json:"stage"`
	OccurredAt string `json:"occurred_at"`
	Delay      *int   `json:"delay,omitempty"`
}

// Plan maps u onto a prep_stage call.
func (a *DeliverooAdapter) Plan(u Update, _ Credentials, now time.Time) (Call, bool) {
	at := u.DecidedAt
	if now.Sub(at) > deliverooPastMax {
		return Call{}, false
	}
	if at.Sub(now) > deliverooFutureMax {
		at = now
	}
	body := DeliverooPrepStage{OccurredAt: at.UTC().Format(time.RFC3339)}
	switch {
	case u.Kind == wire.KindReady && u.Kitchen():
		body.Stage = deliverooReady
	case u.Kind == wire.KindReadySoon && u.Kitchen() && u.ETA != nil && u.ETA.Sub(u.DecidedAt) <= deliverooSoonMax:
		body.Stage = deliverooSoon
	case u.CookStart():
		body.Stage = deliverooInKitchen
		if u.ETA != nil && !u.Order.PrepareFor.IsZero() {
			if d, late := deliverooDelay(u, now); late {
				body.Delay = &d
			}
		}
	case u.Kind == wire.KindDelayed && u.ETA != nil:
		d, ok := deliverooDelay(u, now)
		if !ok {
			return Call{}, false
		}
		body.Stage, body.Delay = deliverooInKitchen, &d
	default:
		return Call{}, false
	}
	b, _ := json.Marshal(body)
	return Call{Endpoint: "prep_stage", Method: http.MethodPost,
		Path: "/order/v1/orders/" + url.PathEscape(u.Order.PlatformID) + "/prep_stage", Body: b}, true
}

// deliverooDelay is how late the predicted ready time is against
// Deliveroo's own prepare_for (or, without one, against now), rounded up
// to Deliveroo's steps of 2 minutes and capped at 10.
func deliverooDelay(u Update, now time.Time) (int, bool) {
	ref := u.Order.PrepareFor
	if ref.IsZero() {
		ref = now
	}
	late := u.ETA.Sub(ref)
	if late <= 0 {
		return 0, false
	}
	m := int((late + time.Minute - 1) / time.Minute)
	m += m % 2
	return min(m, deliverooMaxDelay), true
}

// Deliveroo webhook headers.
const (
	DeliverooHeaderGUID = "X-Deliveroo-Sequence-Guid"
	DeliverooHeaderHMAC = "X-Deliveroo-Hmac-Sha256"
)

// DeliverooSign is the X-Deliveroo-Hmac-Sha256 of body sent with guid.
func DeliverooSign(secret, guid string, body []byte) string {
	return hexMAC(secret, []byte(guid+" "), body)
}

// Verify checks X-Deliveroo-Hmac-Sha256; the delivery id is the sequence
// GUID.
func (a *DeliverooAdapter) Verify(w Webhook, c Credentials, _ time.Time) (string, error) {
	guid := w.Header.Get(DeliverooHeaderGUID)
	if guid == "" || !validHexMAC(w.Header.Get(DeliverooHeaderHMAC), c.WebhookSecret, []byte(guid+" "), w.Body) {
		return "", ErrSignature
	}
	return guid, nil
}

type deliverooEnvelope struct {
	Event string          `json:"event"`
	Body  json.RawMessage `json:"body"`
}

type deliverooOrder struct {
	ID         string    `json:"id"`
	LocationID string    `json:"location_id"`
	DisplayID  string    `json:"display_id"`
	Status     string    `json:"status"`
	PrepareFor time.Time `json:"prepare_for"`
	Customer   struct {
		ContactNumber string `json:"contact_number"`
	} `json:"customer"`
	StatusLog []struct {
		At     time.Time `json:"at"`
		Status string    `json:"status"`
	} `json:"status_log"`
}

type deliverooRiders struct {
	OrderID    string `json:"order_id"`
	LocationID string `json:"location_id"`
	Riders     []struct {
		ID                   string    `json:"id"`
		EstimatedArrivalTime time.Time `json:"estimated_arrival_time"`
		At                   time.Time `json:"at"`
		Status               string    `json:"status"`
	} `json:"riders"`
}

// Events decodes an order or rider event.
func (a *DeliverooAdapter) Events(w Webhook) ([]Event, error) {
	var env deliverooEnvelope
	if err := json.Unmarshal(w.Body, &env); err != nil {
		return nil, fmt.Errorf("deliveroo webhook: %w", err)
	}
	switch env.Event {
	case "order.new", "order.status_update":
		var b struct {
			Order deliverooOrder `json:"order"`
		}
		if err := json.Unmarshal(env.Body, &b); err != nil {
			return nil, fmt.Errorf("deliveroo %s: %w", env.Event, err)
		}
		return deliverooOrderEvents(b.Order)
	case "rider.status_update":
		var b deliverooRiders
		if err := json.Unmarshal(env.Body, &b); err != nil {
			return nil, fmt.Errorf("deliveroo %s: %w", env.Event, err)
		}
		return deliverooRiderEvents(b)
	}
	return nil, fmt.Errorf("deliveroo webhook: unknown event %q", env.Event)
}

func deliverooOrderEvents(o deliverooOrder) ([]Event, error) {
	if o.ID == "" {
		return nil, fmt.Errorf("deliveroo order event: no order id")
	}
	at := o.PrepareFor
	if n := len(o.StatusLog); n > 0 {
		at = o.StatusLog[n-1].At
	}
	ev := Event{PlatformID: o.ID, StoreRef: o.LocationID, OrderCode: o.DisplayID, PrepareFor: o.PrepareFor, At: at,
		CustomerPhone: o.Customer.ContactNumber}
	switch o.Status {
	case "placed", "pending":
		ev.Type = OrderPlaced
	case "accepted", "confirmed":
		ev.Type = OrderAccepted
	case "canceled", "cancelled", "rejected":
		ev.Type = Cancelled
	default:
		return nil, nil // other statuses change nothing Passline keeps
	}
	return []Event{ev}, nil
}

func deliverooRiderEvents(b deliverooRiders) ([]Event, error) {
	if b.OrderID == "" {
		return nil, fmt.Errorf("deliveroo rider event: no order id")
	}
	var out []Event
	for i, r := range b.Riders {
		ev := Event{PlatformID: b.OrderID, StoreRef: b.LocationID, Rider: firstNonEmpty(r.ID, fmt.Sprintf("%s#%d", b.OrderID, i+1)), At: r.At}
		switch r.Status {
		case "rider_assigned":
			ev.Type = RiderAssigned
			if !r.EstimatedArrivalTime.IsZero() && r.EstimatedArrivalTime.After(r.At) {
				ev.TravelSeconds = int(r.EstimatedArrivalTime.Sub(r.At).Seconds())
			}
		case "rider_arrived":
			ev.Type = RiderNear
		case "rider_confirmed_at_restaurant":
			ev.Type = RiderArrived
		case "rider_in_transit":
			ev.Type = PickedUp
		default:
			continue
		}
		out = append(out, ev)
	}
	return out, nil
}
