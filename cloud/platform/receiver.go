package platform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/passline/passline/wire"
)

// MaxWebhookBody caps a webhook's body.
const MaxWebhookBody = 256 << 10

// Receiver serves one platform's webhooks for every store at
// POST .../{store}: the platform is configured, per store, with the URL
// ending in that store's id. A request is applied only when its signature
// verifies with that store's webhook secret, its delivery id was never
// seen, and every event in it is about that store: otherwise it is refused
// (401 bad or missing signature, 409 replayed delivery, 404 unknown store
// or order, 403 an event for another store, 400 a body that does not
// decode), counted, and nothing of it is applied.
type Receiver struct {
	Inbound     Inbound
	Credentials CredentialStore
	Orders      Orders
	Seen        Seen
	// Assign hands a rider assignment to the relay (relay.Relay.Assign),
	// which releases the decisions that waited for it.
	Assign func(ctx context.Context, a wire.Assignment) error
	// Client makes a Resolver's order look-ups; nil means one that follows
	// no redirects. Give it the SSRF-guarded dialer in production.
	Client  *http.Client
	Metrics *ReceiverMetrics
	Now     func() time.Time
	Log     *slog.Logger
}

// ReceiverMetrics counts webhook requests by platform and result.
type ReceiverMetrics struct{ requests *prometheus.CounterVec }

// NewReceiverMetrics registers passline_platform_webhooks_total on reg
// (nil: not registered).
func NewReceiverMetrics(reg prometheus.Registerer) *ReceiverMetrics {
	m := &ReceiverMetrics{requests: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "passline_platform_webhooks_total",
		Help: "Platform webhook requests by platform and result (applied, bad_signature, replay, unknown_store, unknown_order, other_store, invalid, failed).",
	}, []string{"platform", "result"})}
	if reg != nil {
		reg.MustRegister(m.requests)
	}
	return m
}

// Counter is the counter of platform's requests that ended with result.
func (m *ReceiverMetrics) Counter(platform, result string) prometheus.Counter {
	return m.requests.WithLabelValues(platform, result)
}

func (m *ReceiverMetrics) inc(platform, result string) {
	if m != nil {
		m.requests.WithLabelValues(platform, result).Inc()
	}
}

// refusal is a request refused with a status and a result label.
type refusal struct {
	status int
	result string
	msg    string
}

func (r *refusal) Error() string { return r.msg }

func refuse(status int, result, format string, args ...any) *refusal {
	return &refusal{status: status, result: result, msg: fmt.Sprintf(format, args...)}
}

func (rc *Receiver) now() time.Time {
	if rc.Now != nil {
		return rc.Now()
	}
	return time.Now()
}

func (rc *Receiver) log() *slog.Logger {
	if rc.Log != nil {
		return rc.Log
	}
	return slog.Default()
}

// ServeHTTP handles one webhook delivery; the store is the request's
// "store" path value.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := rc.Inbound.Platform()
	err := rc.serve(r)
	var ref *refusal
	switch {
	case err == nil:
		rc.Metrics.inc(p, "applied")
		w.WriteHeader(http.StatusOK)
		if a, ok := rc.Inbound.(Acknowledger); ok {
			_, _ = w.Write(a.Ack())
		}
		return
	case errors.As(err, &ref):
	default:
		ref = refuse(http.StatusServiceUnavailable, "failed", "could not apply the event; retry")
		rc.log().Error("platform webhook failed", "platform", p, "store", r.PathValue("store"), "err", err)
	}
	rc.Metrics.inc(p, ref.result)
	if ref.result != "failed" {
		rc.log().Warn("platform webhook refused", "platform", p, "store", r.PathValue("store"), "result", ref.result, "reason", ref.msg)
	}
	http.Error(w, ref.msg, ref.status)
}

func (rc *Receiver) serve(r *http.Request) error {
	ctx, p, store := r.Context(), rc.Inbound.Platform(), r.PathValue("store")
	if !wire.ValidToken(store) {
		return refuse(http.StatusNotFound, "unknown_store", "unknown store")
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxWebhookBody))
	if err != nil {
		return refuse(http.StatusRequestEntityTooLarge, "invalid", "body too large or unreadable")
	}
	cred, ok, err := rc.Credentials.Get(ctx, store, p)
	if err != nil {
		return fmt.Errorf("read credentials: %w", err)
	}
	if !ok {
		return refuse(http.StatusNotFound, "unknown_store", "store %s is not connected to %s", store, p)
	}
	hook := Webhook{Header: r.Header, Body: body, URL: requestURL(r)}
	id, err := rc.Inbound.Verify(hook, cred, rc.now())
	if err != nil {
		return refuse(http.StatusUnauthorized, "bad_signature", "%v", err)
	}
	events, err := rc.Inbound.Events(hook)
	if err != nil {
		return refuse(http.StatusBadRequest, "invalid", "%v", err)
	}
	seenKey := replayKey(p, store, id)
	first, err := rc.Seen.First(ctx, seenKey)
	if err != nil {
		return fmt.Errorf("replay check: %w", err)
	}
	if !first {
		return refuse(http.StatusConflict, "replay", "delivery %s was already received", id)
	}
	if err := rc.apply(ctx, store, cred, events); err != nil {
		var ref *refusal
		if !errors.As(err, &ref) {
			// Not applied: let the platform's retry through.
			if ferr := rc.Seen.Forget(ctx, seenKey); ferr != nil {
				rc.log().Warn("forget delivery id", "err", ferr)
			}
		}
		return err
	}
	return nil
}

// requestURL is the URL the platform called, without the query: https
// unless the request came in plain (or a proxy's X-Forwarded-Proto says
// otherwise).
func requestURL(r *http.Request) string {
	scheme := "https"
	if r.TLS == nil {
		scheme = "http"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host + r.URL.EscapedPath()
}

// replayKey is the Seen key of a delivery: its id is the platform's, so
// it is hashed into a key NATS accepts.
func replayKey(platform, store, id string) string {
	h := sha256.Sum256([]byte(id))
	return platform + "." + store + "." + hex.EncodeToString(h[:16])
}

// apply checks every event before applying any, so a request with one
// event for another store or an unknown order changes nothing.
func (rc *Receiver) apply(ctx context.Context, store string, cred Credentials, events []Event) error {
	orders := make([]Order, len(events))
	linked := map[string]Order{} // orders linked by an earlier event of this request
	for i, ev := range events {
		if ev.StoreRef != "" && ev.StoreRef != cred.PlatformStoreID {
			return refuse(http.StatusForbidden, "other_store", "event is for platform store %s, not this store's", ev.StoreRef)
		}
		o, known, err := rc.Orders.ByPlatformID(ctx, rc.Inbound.Platform(), ev.PlatformID)
		if err != nil {
			return fmt.Errorf("look up order: %w", err)
		}
		if !known {
			o, known = linked[ev.PlatformID]
		}
		if known && o.Store != store {
			return refuse(http.StatusForbidden, "other_store", "order belongs to another store")
		}
		if !known && ev.Type != OrderPlaced && ev.Type != OrderAccepted {
			return refuse(http.StatusNotFound, "unknown_order", "unknown order")
		}
		if !known {
			if ev.OrderCode == "" {
				if ev, err = rc.resolve(ctx, cred, ev); err != nil {
					return err
				}
				events[i] = ev
			}
			if err := checkOrderCode(ev.OrderCode); err != nil {
				return refuse(http.StatusBadRequest, "invalid", "%v", err)
			}
			o = Order{Store: store, OrderID: ev.OrderCode, Platform: rc.Inbound.Platform(), PlatformID: ev.PlatformID}
			linked[ev.PlatformID] = o
		}
		orders[i] = o
	}
	for i, ev := range events {
		if err := rc.applyOne(ctx, orders[i], ev); err != nil {
			return err
		}
	}
	return nil
}

// resolve asks the platform for what an order event lacks (its code), when
// the Inbound can; a failure is retryable (503), so the platform resends.
func (rc *Receiver) resolve(ctx context.Context, cred Credentials, ev Event) (Event, error) {
	res, ok := rc.Inbound.(Resolver)
	if !ok {
		return ev, nil
	}
	client := rc.Client
	if client == nil {
		client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := res.Resolve(ctx, client, cred, ev, rc.now())
	if err != nil {
		return ev, fmt.Errorf("look up %s order %s: %s", rc.Inbound.Platform(), ev.PlatformID, redact(err.Error(), cred))
	}
	return out, nil
}

func checkOrderCode(code string) error {
	a := wire.Assignment{Store: "s", OrderID: code, Rider: "r", At: time.Unix(1, 0)}
	if code == "" {
		return errors.New("order event without the order's code")
	}
	if err := a.Validate(); err != nil {
		return fmt.Errorf("order code %q: %w", code, err)
	}
	return nil
}

func (rc *Receiver) applyOne(ctx context.Context, o Order, ev Event) error {
	now := rc.now()
	at := ev.At
	if at.IsZero() {
		at = now
	}
	rider := riderID(rc.Inbound.Platform(), ev.Rider)
	saved, err := rc.Orders.Update(ctx, o.Store, o.OrderID, func(cur *Order) error {
		if cur.PlatformID == "" {
			// Link the order, keeping what others recorded before the
			// platform named it (the rider's own arrival report).
			cur.Store, cur.OrderID, cur.Platform, cur.PlatformID = o.Store, o.OrderID, o.Platform, o.PlatformID
		}
		cur.UpdatedAt = now
		applyEvent(cur, ev, at, rider)
		return nil
	})
	if err != nil {
		return fmt.Errorf("save order %s/%s: %w", o.Store, o.OrderID, err)
	}
	if ev.Type == RiderAssigned && rc.Assign != nil {
		a := wire.Assignment{Store: saved.Store, OrderID: saved.OrderID, Rider: rider, TravelSeconds: min(ev.TravelSeconds, 4*3600), At: at}
		if err := rc.Assign(ctx, a); err != nil {
			return fmt.Errorf("assign rider: %w", err)
		}
	}
	return nil
}

// applyEvent records ev on o; a time already recorded is kept, so a
// repeated or late event does not move the ground truth.
func applyEvent(o *Order, ev Event, at time.Time, rider string) {
	set := func(t *time.Time) {
		if t.IsZero() {
			*t = at
		}
	}
	if !ev.PrepareFor.IsZero() {
		o.PrepareFor = ev.PrepareFor
	}
	if ev.Locale != "" {
		o.Locale = ev.Locale
	}
	if ev.CustomerPhone != "" {
		o.CustomerPhone = ev.CustomerPhone
	}
	switch ev.Type {
	case OrderPlaced:
		set(&o.PlacedAt)
		if o.Status == "" {
			o.Status = "placed"
		}
	case OrderAccepted:
		set(&o.AcceptedAt)
		if o.Status == "" || o.Status == "placed" {
			o.Status = "accepted"
		}
	case RiderAssigned:
		o.Rider = rider
		set(&o.RiderAssignedAt)
	case RiderNear:
		set(&o.RiderNearAt)
	case RiderArrived:
		set(&o.RiderArrivedAt)
	case PickedUp:
		set(&o.PickedUpAt)
		o.Status = "picked_up"
	case Cancelled:
		set(&o.CancelledAt)
		o.Status = "cancelled"
	}
}

// riderID is the Passline rider id of a platform's rider: the platform's
// name and a hash of its id (platform ids are not always NATS tokens).
func riderID(platform, rider string) string {
	h := sha256.Sum256([]byte(rider))
	return platform + "-" + hex.EncodeToString(h[:6])
}
