package webhook

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/wire"
)

// ContentType is the structured-mode CloudEvents media type of every body.
const ContentType = "application/cloudevents+json; charset=utf-8"

// TypePrefix starts every event type; the decision kind ends it, e.g.
// "com.passline.rider.ready".
const TypePrefix = "com.passline.rider."

// Event is a CloudEvents 1.0 event in structured mode whose data is the
// rider notification. ID is the decision id, so a receiver can drop a
// retried duplicate.
type Event struct {
	SpecVersion     string          `json:"specversion"`
	ID              string          `json:"id"`
	Source          string          `json:"source"`
	Type            string          `json:"type"`
	Subject         string          `json:"subject,omitempty"` // the order id
	Time            time.Time       `json:"time"`
	DataContentType string          `json:"datacontenttype"`
	Data            json.RawMessage `json:"data"`
}

// NewEvent builds the event for n. An invalid notification is an error
// wrapping cloud.ErrPermanent: resending cannot fix it.
func NewEvent(source string, n wire.Notification) (Event, error) {
	data, err := n.Marshal()
	if err != nil {
		return Event{}, fmt.Errorf("notification %s: %w: %w", n.ID, err, cloud.ErrPermanent)
	}
	at := n.DecidedAt
	if at.IsZero() {
		at = n.SentAt
	}
	return Event{
		SpecVersion:     "1.0",
		ID:              n.ID,
		Source:          source,
		Type:            TypePrefix + string(n.Kind),
		Subject:         n.OrderID,
		Time:            at.UTC(),
		DataContentType: "application/json",
		Data:            data,
	}, nil
}

// DecodeEvent parses a received body into the event and its notification,
// refusing anything that is not a CloudEvents 1.0 Passline rider event with
// a valid notification. It is for receivers and tests.
func DecodeEvent(body []byte) (Event, wire.Notification, error) {
	var e Event
	if len(body) > 2*wire.MaxPayload {
		return e, wire.Notification{}, fmt.Errorf("event is %d bytes", len(body))
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return e, wire.Notification{}, fmt.Errorf("decode event: %w", err)
	}
	if e.SpecVersion != "1.0" || e.ID == "" || e.Source == "" || e.Type == "" {
		return e, wire.Notification{}, fmt.Errorf("not a CloudEvents 1.0 event (specversion %q, id %q, source %q, type %q)", e.SpecVersion, e.ID, e.Source, e.Type)
	}
	n, err := wire.DecodeNotification(e.Data)
	if err != nil {
		return e, n, fmt.Errorf("event data: %w", err)
	}
	if n.ID != e.ID || e.Type != TypePrefix+string(n.Kind) {
		return e, n, fmt.Errorf("event id %q / type %q disagree with notification %q / %q", e.ID, e.Type, n.ID, n.Kind)
	}
	return e, n, nil
}
