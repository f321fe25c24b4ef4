package natsjs

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/wire"
)

// Buckets of the platform gateway.
const (
	// BucketPlatformCreds holds each store's platform credentials, sealed
	// (platform.Sealer): key {store}.{platform}.
	BucketPlatformCreds = "PASSLINE_PLATFORM_CREDS"
	// BucketPlatformOrders holds platform.Order records, the link between
	// a ticket's order id and the platform's and the rider's timeline:
	// key o.{store}.{base64url order id}, and an index
	// p.{platform}.{base64url platform order id} whose value is
	// "{store}\n{order id}".
	BucketPlatformOrders = "PASSLINE_PLATFORM_ORDERS"
	// BucketPlatformSeen holds webhook delivery ids for a day, to refuse
	// replays.
	BucketPlatformSeen = "PASSLINE_PLATFORM_SEEN"

	// HeaderDLQChannel names the channel that parked a decision.
	HeaderDLQChannel = "Passline-Dlq-Channel"
)

// PlatformBuckets are the platform gateway's buckets.
type PlatformBuckets struct {
	Creds, Orders, Seen jetstream.KeyValue
}

// PlatformOrderTTL is how long order records are kept: long enough for
// the rider-wait figures to be computed from them.
const PlatformOrderTTL = 30 * 24 * time.Hour

// SetupPlatform creates or updates the platform gateway's buckets.
func SetupPlatform(ctx context.Context, js jetstream.JetStream, replicas int) (*PlatformBuckets, error) {
	b := &PlatformBuckets{}
	return b, createBuckets(ctx, js, max(replicas, 1), []bucketSpec{
		{&b.Creds, BucketPlatformCreds, 0, 4},
		{&b.Orders, BucketPlatformOrders, PlatformOrderTTL, 1},
		{&b.Seen, BucketPlatformSeen, 24 * time.Hour, 1},
	})
}

// PlatformCredentials stores credentials sealed with Sealer.
type PlatformCredentials struct {
	KV     jetstream.KeyValue
	Sealer *platform.Sealer
}

var _ platform.CredentialStore = PlatformCredentials{}

func credsKey(store, p string) string { return store + "." + p }

// Get returns the store's credentials on platform p.
func (s PlatformCredentials) Get(ctx context.Context, store, p string) (platform.Credentials, bool, error) {
	e, err := s.KV.Get(ctx, credsKey(store, p))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return platform.Credentials{}, false, nil
	}
	if err != nil {
		return platform.Credentials{}, false, err
	}
	c, err := s.Sealer.Open(e.Value())
	if err != nil {
		return platform.Credentials{}, false, fmt.Errorf("credentials %s/%s: %w", store, p, err)
	}
	return c, true, nil
}

// Put seals and stores c for store.
func (s PlatformCredentials) Put(ctx context.Context, store string, c platform.Credentials) error {
	sealed, err := s.Sealer.Seal(c)
	if err != nil {
		return err
	}
	_, err = s.KV.Put(ctx, credsKey(store, c.Platform), sealed)
	return err
}

// Delete removes the store's credentials on platform p.
func (s PlatformCredentials) Delete(ctx context.Context, store, p string) error {
	err := s.KV.Delete(ctx, credsKey(store, p))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	return err
}

// Connected lists the platforms store has credentials for, with when they
// were last set; no secret is read.
func (s PlatformCredentials) Connected(ctx context.Context, store string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	for _, p := range platform.Names {
		e, err := s.KV.Get(ctx, credsKey(store, p))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out[p] = e.Created()
	}
	return out, nil
}

// PlatformOrders stores platform.Order records.
type PlatformOrders struct{ KV jetstream.KeyValue }

var _ platform.Orders = PlatformOrders{}

func enc(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func platformOrderKey(store, order string) string { return "o." + store + "." + enc(order) }

func indexKey(p, id string) string { return "p." + p + "." + enc(id) }

// Get returns the record of (store, order).
func (s PlatformOrders) Get(ctx context.Context, store, order string) (platform.Order, bool, error) {
	o, _, err := s.get(ctx, platformOrderKey(store, order))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return o, false, nil
	}
	return o, err == nil, err
}

func (s PlatformOrders) get(ctx context.Context, key string) (platform.Order, uint64, error) {
	var o platform.Order
	e, err := s.KV.Get(ctx, key)
	if err != nil {
		return o, 0, err
	}
	if err := json.Unmarshal(e.Value(), &o); err != nil {
		return o, 0, fmt.Errorf("decode order %s: %w", key, err)
	}
	return o, e.Revision(), nil
}

// ByPlatformID returns the record of the platform's order id.
func (s PlatformOrders) ByPlatformID(ctx context.Context, p, id string) (platform.Order, bool, error) {
	e, err := s.KV.Get(ctx, indexKey(p, id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return platform.Order{}, false, nil
	}
	if err != nil {
		return platform.Order{}, false, err
	}
	store, order, ok := strings.Cut(string(e.Value()), "\n")
	if !ok {
		return platform.Order{}, false, fmt.Errorf("bad order index %s", indexKey(p, id))
	}
	return s.Get(ctx, store, order)
}

// Update applies fn to the record and saves it with compare-and-set,
// retrying on a concurrent change, then indexes the platform order id.
func (s PlatformOrders) Update(ctx context.Context, store, order string, fn func(*platform.Order) error) (platform.Order, error) {
	key := platformOrderKey(store, order)
	for range 16 {
		o, rev, err := s.get(ctx, key)
		if err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
			return o, err
		}
		if err := fn(&o); err != nil {
			return o, err
		}
		b, err := json.Marshal(o)
		if err != nil {
			return o, err
		}
		if rev == 0 {
			_, err = s.KV.Create(ctx, key, b)
		} else {
			_, err = s.KV.Update(ctx, key, b, rev)
		}
		if errors.Is(err, jetstream.ErrKeyExists) || isWrongSequence(err) {
			continue
		}
		if err != nil {
			return o, err
		}
		if o.PlatformID != "" {
			if _, err := s.KV.Put(ctx, indexKey(o.Platform, o.PlatformID), []byte(store+"\n"+order)); err != nil {
				return o, fmt.Errorf("index order: %w", err)
			}
		}
		return o, nil
	}
	return platform.Order{}, fmt.Errorf("order %s/%s: too many concurrent updates", store, order)
}

func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}

// PlatformSeen remembers webhook delivery ids.
type PlatformSeen struct{ KV jetstream.KeyValue }

var _ platform.Seen = PlatformSeen{}

// First records key and reports whether it was new.
func (s PlatformSeen) First(ctx context.Context, key string) (bool, error) {
	_, err := s.KV.Create(ctx, key, []byte{1})
	if errors.Is(err, jetstream.ErrKeyExists) {
		return false, nil
	}
	return err == nil, err
}

// Forget drops key.
func (s PlatformSeen) Forget(ctx context.Context, key string) error {
	return s.KV.Purge(ctx, key)
}

// PlatformDeadLetters parks refused platform calls in DECISIONS_DLQ.
type PlatformDeadLetters struct{ JS jetstream.JetStream }

var _ platform.DeadLetters = PlatformDeadLetters{}

// Park publishes n to the store's dead-letter subject with the reason and
// the channel in headers, once per decision and channel.
func (d PlatformDeadLetters) Park(ctx context.Context, n wire.Notification, channel, reason string) error {
	b, err := json.Marshal(n)
	if err != nil {
		return err
	}
	m := nats.NewMsg(DLQSubject(n.Store))
	m.Data = b
	m.Header.Set(HeaderDLQReason, reason)
	m.Header.Set(HeaderDLQChannel, channel)
	m.Header.Set(nats.MsgIdHdr, "platform:"+n.ID+":"+channel)
	_, err = d.JS.PublishMsg(ctx, m)
	return err
}

// PlatformCaps keeps the customer channel's per-order caps in the seen
// bucket (a day).
type PlatformCaps struct{ KV jetstream.KeyValue }

var _ platform.Caps = PlatformCaps{}

// Claim records id under key, or reports whether key already holds id.
func (c PlatformCaps) Claim(ctx context.Context, key, id string) (bool, error) {
	_, err := c.KV.Create(ctx, key, []byte(id))
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return false, err
	}
	e, err := c.KV.Get(ctx, key)
	if err != nil {
		return false, err
	}
	return string(e.Value()) == id, nil
}
