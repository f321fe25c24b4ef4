package natsjs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/cloud/relay"
	"github.com/passline/passline/wire"
)

// BucketRiderAcks holds what each order's rider acknowledged
// (RiderAck), key {store}.{order}, for RiderAckTTL. Its history is
// 1: an update is a compare-and-set on the one value.
const BucketRiderAcks = "PASSLINE_RIDER_ACKS"

// RiderAckTTL is how long an order's acks are kept: far longer than the
// re-send delay and a delivery.
const RiderAckTTL = 24 * time.Hour

// RiderAck is what an order's rider acknowledged: Version is the
// highest card version (wire.Notification.Version) they confirmed
// receiving, ArrivedAt when they said they were at the store (the first
// time counts).
type RiderAck struct {
	Rider     string    `json:"rider"`
	Version   uint64    `json:"version"`
	AckedAt   time.Time `json:"acked_at,omitzero"`
	ArrivedAt time.Time `json:"arrived_at,omitzero"`
}

// RiderAcks keeps RiderAck records in BucketRiderAcks.
type RiderAcks struct{ KV jetstream.KeyValue }

// Get returns the order's record, or false when there is none.
func (a RiderAcks) Get(ctx context.Context, store, order string) (RiderAck, bool, error) {
	r, rev, err := a.get(ctx, orderKey(store, order))
	return r, rev != 0, err
}

func (a RiderAcks) get(ctx context.Context, key string) (RiderAck, uint64, error) {
	var r RiderAck
	e, err := a.KV.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return r, 0, nil
	}
	if err != nil {
		return r, 0, err
	}
	if err := json.Unmarshal(e.Value(), &r); err != nil {
		return r, 0, fmt.Errorf("decode rider ack %s: %w", key, err)
	}
	return r, e.Revision(), nil
}

// Ack records that rider received the order's card at version. The
// stored version only grows: an ack of an older version, arriving late,
// leaves a newer one in place.
func (a RiderAcks) Ack(ctx context.Context, store, order, rider string, version uint64, at time.Time) (RiderAck, error) {
	return a.update(ctx, store, order, func(r *RiderAck) {
		r.Rider = rider
		if version >= r.Version {
			r.Version, r.AckedAt = version, at
		}
	})
}

// Arrived records that rider said they were at the store; the first time
// counts.
func (a RiderAcks) Arrived(ctx context.Context, store, order, rider string, at time.Time) (RiderAck, error) {
	return a.update(ctx, store, order, func(r *RiderAck) {
		r.Rider = rider
		if r.ArrivedAt.IsZero() {
			r.ArrivedAt = at
		}
	})
}

// update applies fn with compare-and-set, retrying on a concurrent change
// (another replica's ack of the same order).
func (a RiderAcks) update(ctx context.Context, store, order string, fn func(*RiderAck)) (RiderAck, error) {
	key := orderKey(store, order)
	for range 16 {
		r, rev, err := a.get(ctx, key)
		if err != nil {
			return r, err
		}
		fn(&r)
		b, err := json.Marshal(r)
		if err != nil {
			return r, err
		}
		if rev == 0 {
			_, err = a.KV.Create(ctx, key, b)
		} else {
			_, err = a.KV.Update(ctx, key, b, rev)
		}
		if errors.Is(err, jetstream.ErrKeyExists) || isWrongSequence(err) {
			continue
		}
		return r, err
	}
	return RiderAck{}, fmt.Errorf("rider ack %s: too many concurrent updates", key)
}

// RiderReceipts records riders' acks and arrivals
// (httpapi.RiderReceipts). An order is the rider's when the order view
// (PASSLINE_ORDERS) knows it and its assignment names the rider, or, in
// the demo (AutoAssignRiders > 0), when an unassigned order's simulated
// rider is the rider; anything else is cloud.ErrUnknownOrder.
//
// An ack goes to Acks, where Resends reads it. An arrival goes to Acks
// and to the order's record in PASSLINE_PLATFORM_ORDERS (Arrivals) as
// its rider_arrived_at, the first report counting, whether it came from
// a platform or the rider: the rider-wait KPIs read it there.
type RiderReceipts struct {
	Orders           Orders
	Assignments      relay.Assignments
	AutoAssignRiders int
	Acks             RiderAcks
	Arrivals         PlatformOrders
	Now              func() time.Time
}

func (rr RiderReceipts) now() time.Time {
	if rr.Now != nil {
		return rr.Now()
	}
	return time.Now()
}

// Ack records that rider received the order's card at version.
func (rr RiderReceipts) Ack(ctx context.Context, rider, store, order string, version uint64) error {
	if err := rr.check(ctx, rider, store, order); err != nil {
		return err
	}
	_, err := rr.Acks.Ack(ctx, store, order, rider, version, rr.now())
	return err
}

// Arrived records that rider is at the store.
func (rr RiderReceipts) Arrived(ctx context.Context, rider, store, order string) error {
	if err := rr.check(ctx, rider, store, order); err != nil {
		return err
	}
	now := rr.now()
	if _, err := rr.Acks.Arrived(ctx, store, order, rider, now); err != nil {
		return err
	}
	_, err := rr.Arrivals.Update(ctx, store, order, func(o *platform.Order) error {
		o.Store, o.OrderID = store, order
		if o.RiderArrivedAt.IsZero() {
			o.RiderArrivedAt = now
		}
		if o.Rider == "" {
			o.Rider = rider
		}
		o.UpdatedAt = now
		return nil
	})
	if err != nil {
		return fmt.Errorf("record arrival in %s: %w", BucketPlatformOrders, err)
	}
	return nil
}

// check returns cloud.ErrUnknownOrder unless the order is known and
// rider's.
func (rr RiderReceipts) check(ctx context.Context, rider, store, order string) error {
	st, found, err := rr.Orders.Get(ctx, store, order)
	if err != nil {
		return fmt.Errorf("read order view: %w", err)
	}
	if !found {
		return cloud.ErrUnknownOrder
	}
	a, ok, err := rr.Assignments.Get(ctx, store, order)
	if err != nil {
		return fmt.Errorf("read assignment: %w", err)
	}
	if !ok && rr.AutoAssignRiders > 0 {
		a, ok = relay.AutoAssign(wire.Decision{Store: st.Store, OrderID: st.OrderID}, rr.AutoAssignRiders, rr.now()), true
	}
	if !ok || a.Rider != rider {
		return cloud.ErrUnknownOrder
	}
	return nil
}
