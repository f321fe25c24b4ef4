package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/wire"
)

// RiderReceipts records what a rider tells about one of their orders.
// Both return cloud.ErrUnknownOrder when the store has no such order for
// this rider.
type RiderReceipts interface {
	// Ack records that the order's card reached the rider at version
	// (wire.Notification.Version).
	Ack(ctx context.Context, rider, store, order string, version uint64) error
	// Arrived records that the rider is at the store.
	Arrived(ctx context.Context, rider, store, order string) error
}

// RiderAckBody is the body of POST /v1/riders/{rider}/orders/{order}/ack:
// the order's store (order ids are a store's own) and the version of the
// card the rider received.
type RiderAckBody struct {
	Store   string `json:"store"`
	Version uint64 `json:"version"`
}

// Validate checks the store id.
func (b *RiderAckBody) Validate() error {
	if !wire.ValidToken(b.Store) {
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: "store", Message: "store must be 1-64 characters of A-Z a-z 0-9 _ -"}
	}
	return nil
}

// RiderArrivedBody is the body of POST
// /v1/riders/{rider}/orders/{order}/arrived: the order's store.
type RiderArrivedBody struct {
	Store string `json:"store"`
}

// Validate checks the store id.
func (b *RiderArrivedBody) Validate() error {
	return (&RiderAckBody{Store: b.Store}).Validate()
}

// RiderAck serves POST /v1/riders/{rider}/orders/{order}/ack: a strict
// RiderAckBody (400 naming the field), then rr.Ack → 204; 404 when the
// store has no such order for the rider, 503 when recording fails. An ack
// of an older version than one already acked changes nothing and is
// still 204. Mount it behind Require and RequireRider("rider").
func RiderAck(rr RiderReceipts, log *slog.Logger) http.Handler {
	log = orDefault(log)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b RiderAckBody
		if e := Decode(w, r, &b, 1<<10); e != nil {
			WriteError(w, e)
			return
		}
		rider, order := r.PathValue("rider"), r.PathValue("order")
		writeReceipt(w, log, "ack", rider, b.Store, order, rr.Ack(r.Context(), rider, b.Store, order, b.Version))
	})
}

// RiderArrived serves POST /v1/riders/{rider}/orders/{order}/arrived: a
// strict RiderArrivedBody, then rr.Arrived → 204 (the first arrival
// counts; a repeat is 204 too), 404 for an order the rider does not
// carry, 503 when recording fails. Mount it behind Require and
// RequireRider("rider").
func RiderArrived(rr RiderReceipts, log *slog.Logger) http.Handler {
	log = orDefault(log)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b RiderArrivedBody
		if e := Decode(w, r, &b, 1<<10); e != nil {
			WriteError(w, e)
			return
		}
		rider, order := r.PathValue("rider"), r.PathValue("order")
		writeReceipt(w, log, "arrived", rider, b.Store, order, rr.Arrived(r.Context(), rider, b.Store, order))
	})
}

func writeReceipt(w http.ResponseWriter, log *slog.Logger, what, rider, store, order string, err error) {
	switch {
	case errors.Is(err, cloud.ErrUnknownOrder):
		WriteError(w, Errorf(http.StatusNotFound, CodeNotFound, "rider %q has no order %q at store %q", rider, order, store))
	case err != nil:
		log.Error("record rider "+what, "rider", rider, "store", store, "order", order, "err", err)
		WriteError(w, Errorf(http.StatusServiceUnavailable, CodeInternal, "could not record the %s; retry", what))
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}
