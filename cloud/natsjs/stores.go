package natsjs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/relay"
	"github.com/passline/passline/wire"
)

// idKey turns a decision id (any text) into a KV key.
func idKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	var k [41]byte // one allocation: the string
	k[0] = 'd'
	hex.Encode(k[1:], sum[:20])
	return string(k[:])
}

func orderKey(store, order string) string { return store + "." + order }

// Marks keeps delivered marks in PASSLINE_DELIVERED, which forgets them
// after the idempotency TTL.
type Marks struct{ KV jetstream.KeyValue }

// Get implements relay.Marks.
func (m Marks) Get(ctx context.Context, id string) (relay.Mark, uint64, error) {
	e, err := m.KV.Get(ctx, idKey(id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return relay.Mark{}, 0, nil
	}
	if err != nil {
		return relay.Mark{}, 0, err
	}
	var mk relay.Mark
	if err := json.Unmarshal(e.Value(), &mk); err != nil {
		return relay.Mark{}, 0, fmt.Errorf("decode mark %s: %w", e.Key(), err)
	}
	return mk, e.Revision(), nil
}

// Save implements relay.Marks: create-if-absent when rev is 0. When another
// replica created the mark meanwhile, the channels of both are merged.
func (m Marks) Save(ctx context.Context, id string, mk relay.Mark, rev uint64) error {
	b, err := json.Marshal(mk)
	if err != nil {
		return err
	}
	key := idKey(id)
	if rev != 0 {
		_, err = m.KV.Update(ctx, key, b, rev)
		return err
	}
	if _, err = m.KV.Create(ctx, key, b); !errors.Is(err, jetstream.ErrKeyExists) {
		return err
	}
	other, orev, err := m.Get(ctx, id)
	if err != nil {
		return err
	}
	for _, c := range other.Channels {
		if !slices.Contains(mk.Channels, c) {
			mk.Channels = append(mk.Channels, c)
		}
	}
	slices.Sort(mk.Channels)
	return m.Save(ctx, id, mk, orev)
}

// Assignments keeps rider assignments in PASSLINE_ASSIGN under {store}.{order}.
type Assignments struct{ KV jetstream.KeyValue }

// Get implements relay.Assignments.
func (a Assignments) Get(ctx context.Context, store, order string) (wire.Assignment, bool, error) {
	e, err := a.KV.Get(ctx, orderKey(store, order))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return wire.Assignment{}, false, nil
	}
	if err != nil {
		return wire.Assignment{}, false, err
	}
	as, err := wire.DecodeAssignment(e.Value())
	if err != nil {
		return wire.Assignment{}, false, fmt.Errorf("decode assignment %s: %w", e.Key(), err)
	}
	return as, true, nil
}

// Put implements relay.Assignments; a later assignment replaces an earlier one.
func (a Assignments) Put(ctx context.Context, as wire.Assignment) error {
	b, err := as.Marshal()
	if err != nil {
		return err
	}
	_, err = a.KV.Put(ctx, orderKey(as.Store, as.OrderID), b)
	return err
}

// ETALimit allows one eta per order per bucket TTL (PASSLINE_ETA).
type ETALimit struct{ KV jetstream.KeyValue }

// AllowETA implements relay.ETALimit.
func (l ETALimit) AllowETA(ctx context.Context, d wire.Decision) (bool, error) {
	key := orderKey(d.Store, d.OrderID)
	_, err := l.KV.Create(ctx, key, []byte(d.ID))
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return false, err
	}
	e, err := l.KV.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return l.AllowETA(ctx, d) // expired in between
	}
	if err != nil {
		return false, err
	}
	return string(e.Value()) == d.ID, nil
}

// OrderState is an order's latest status as the API shows it.
type OrderState struct {
	Store       string            `json:"store"`
	OrderID     string            `json:"order_id"`
	ShortCode   string            `json:"short_code,omitempty"`
	Status      wire.DecisionKind `json:"status"` // kind of the latest decision
	ETA         *time.Time        `json:"eta,omitempty"`
	Probability float64           `json:"probability,omitempty"`
	DecisionID  string            `json:"decision_id"`
	DecidedAt   time.Time         `json:"decided_at"`
}

// Orders keeps the order view in PASSLINE_ORDERS under {store}.{order}.
// An update is a plain publish to the bucket's subject, with no reply
// subject: the stream stores it and sends no ack, so the view costs the
// relay no round trip and no ack to read (an ack per decision cost both
// sides CPU, and the relay never waited for it). The view is best effort:
// an update lost to a disconnect is corrected by the order's next
// decision. The last decision processed wins, and the consumer processes
// an order's decisions in stream order except on redelivery.
type Orders struct {
	KV jetstream.KeyValue
	JS jetstream.JetStream
}

// Update implements relay.OrderView.
func (o Orders) Update(ctx context.Context, d wire.Decision) error {
	st := OrderState{Store: d.Store, OrderID: d.OrderID, ShortCode: d.ShortCode, Status: d.Kind,
		Probability: d.Probability, DecisionID: d.ID, DecidedAt: d.CreatedAt, ETA: d.ETA}
	b, ok := st.appendJSON(make([]byte, 0, 256))
	if !ok {
		var err error
		if b, err = json.Marshal(st); err != nil {
			return err
		}
	}
	return o.JS.Conn().Publish("$KV."+BucketOrders+"."+orderKey(d.Store, d.OrderID), b)
}

// appendJSON appends st as json.Marshal writes it, without reflection
// (the relay writes one per decision); false when json.Marshal must say
// why it cannot.
func (st *OrderState) appendJSON(b []byte) ([]byte, bool) {
	ok, good := true, true
	b = append(b, `{"store":`...)
	b = wire.AppendJSONString(b, st.Store)
	b = append(b, `,"order_id":`...)
	b = wire.AppendJSONString(b, st.OrderID)
	if st.ShortCode != "" {
		b = append(b, `,"short_code":`...)
		b = wire.AppendJSONString(b, st.ShortCode)
	}
	b = append(b, `,"status":`...)
	b = wire.AppendJSONString(b, string(st.Status))
	if st.ETA != nil {
		b = append(b, `,"eta":`...)
		b, good = wire.AppendJSONTime(b, *st.ETA)
		ok = ok && good
	}
	if st.Probability != 0 {
		b = append(b, `,"probability":`...)
		b, good = wire.AppendJSONFloat(b, st.Probability)
		ok = ok && good
	}
	b = append(b, `,"decision_id":`...)
	b = wire.AppendJSONString(b, st.DecisionID)
	b = append(b, `,"decided_at":`...)
	b, good = wire.AppendJSONTime(b, st.DecidedAt)
	return append(b, '}'), ok && good
}

// Get returns the order's state, or false when the view has none.
func (o Orders) Get(ctx context.Context, store, order string) (OrderState, bool, error) {
	st, rev, err := o.get(ctx, orderKey(store, order))
	return st, rev != 0, err
}

func (o Orders) get(ctx context.Context, key string) (OrderState, uint64, error) {
	e, err := o.KV.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return OrderState{}, 0, nil
	}
	if err != nil {
		return OrderState{}, 0, err
	}
	var st OrderState
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		return OrderState{}, 0, fmt.Errorf("decode order %s: %w", key, err)
	}
	return st, e.Revision(), nil
}

// RiderPhones looks up riders' phone numbers in PASSLINE_RIDERS (key
// {rider}, JSON {"phone": "+8613800138000"}) for the SMS channel.
type RiderPhones struct{ KV jetstream.KeyValue }

// Phone returns the rider's E.164 number, or "" when the rider has none.
func (r RiderPhones) Phone(ctx context.Context, rider string) (string, error) {
	e, err := r.KV.Get(ctx, rider)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	var v struct {
		Phone string `json:"phone"`
	}
	if err := json.Unmarshal(e.Value(), &v); err != nil {
		return "", fmt.Errorf("rider %s: %w: %w", rider, err, cloud.ErrPermanent)
	}
	return v.Phone, nil
}
