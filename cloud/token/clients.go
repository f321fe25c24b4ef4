package token

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// ErrBadCredentials is returned by Authenticate for an unknown client, a
// wrong secret or a revoked client alike, so a caller cannot tell which.
var ErrBadCredentials = errors.New("unknown client, wrong secret or revoked client")

// Clients adds, rotates, revokes and authenticates API clients.
type Clients struct {
	Store ClientStore
	// Cost is the bcrypt cost of new secret hashes; bcrypt.DefaultCost when 0.
	Cost int
	// Now is the clock; time.Now when nil.
	Now func() time.Time

	dummyOnce sync.Once
	dummy     []byte
}

// ClientSpec describes a new client.
type ClientSpec struct {
	ID        string // empty: a random id
	Tier      Tier
	Scopes    []string
	Stores    []string
	Merchants []string
}

// Validate checks spec as Add does, before any store is reached; an empty
// ID stands for the random one Add draws.
func (s ClientSpec) Validate() error {
	c := s.client(time.Time{})
	return c.Validate()
}

// client is the Client spec describes, created at created, with a random
// id when spec has none.
func (s ClientSpec) client(created time.Time) Client {
	c := Client{ID: s.ID, Tier: s.Tier, Scopes: s.Scopes, Stores: s.Stores, Merchants: s.Merchants, Created: created}
	if c.ID == "" {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		c.ID = "cl_" + hex.EncodeToString(b)
	}
	return c
}

func (cs *Clients) now() time.Time {
	if cs.Now != nil {
		return cs.Now()
	}
	return time.Now()
}

func (cs *Clients) hash(secret string) (string, error) {
	cost := cs.Cost
	if cost == 0 {
		cost = bcrypt.DefaultCost
	}
	h, err := bcrypt.GenerateFromPassword([]byte(secret), cost)
	if err != nil {
		return "", fmt.Errorf("hash secret: %w", err)
	}
	return string(h), nil
}

// newSecret returns 32 random bytes, base64url: 43 characters, under
// bcrypt's 72-byte limit.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Add creates a client and returns it with its secret. The secret is not
// stored and cannot be shown again; Rotate makes a new one.
func (cs *Clients) Add(ctx context.Context, spec ClientSpec) (Client, string, error) {
	c := spec.client(cs.now().UTC())
	if err := c.Validate(); err != nil {
		return Client{}, "", err
	}
	secret := newSecret()
	h, err := cs.hash(secret)
	if err != nil {
		return Client{}, "", err
	}
	c.SecretHash = h
	if err := cs.Store.Put(ctx, c, 0); err != nil {
		return Client{}, "", fmt.Errorf("add client %s: %w", c.ID, err)
	}
	return c, secret, nil
}

// Rotate gives client id a new secret and returns it; the old secret stops
// working at once. Tokens already issued stay valid until they expire.
func (cs *Clients) Rotate(ctx context.Context, id string) (string, error) {
	secret := newSecret()
	h, err := cs.hash(secret)
	if err != nil {
		return "", err
	}
	err = cs.update(ctx, id, func(c *Client) error {
		if !c.Revoked.IsZero() {
			return fmt.Errorf("client %s is revoked", id)
		}
		c.SecretHash, c.Rotated = h, cs.now().UTC()
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("rotate client %s: %w", id, err)
	}
	return secret, nil
}

// Revoke refuses client id from now on: its secret stops working, and
// tokens it already holds are refused wherever Active is consulted. The
// record is kept, so the id is never reused.
func (cs *Clients) Revoke(ctx context.Context, id string) error {
	err := cs.update(ctx, id, func(c *Client) error {
		if c.Revoked.IsZero() {
			c.Revoked = cs.now().UTC()
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("revoke client %s: %w", id, err)
	}
	return nil
}

// update applies fn to the stored client, retrying on concurrent changes.
func (cs *Clients) update(ctx context.Context, id string, fn func(*Client) error) error {
	for range 5 {
		c, rev, err := cs.Store.Get(ctx, id)
		if err != nil {
			return err
		}
		if err := fn(&c); err != nil {
			return err
		}
		err = cs.Store.Put(ctx, c, rev)
		if !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return ErrConflict
}

// Authenticate returns the client when secret is its current secret and it
// is not revoked, and ErrBadCredentials otherwise. An unknown id costs as
// much time as a wrong secret.
func (cs *Clients) Authenticate(ctx context.Context, id, secret string) (Client, error) {
	c, _, err := cs.Store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		_ = bcrypt.CompareHashAndPassword(cs.dummyHash(), []byte(secret))
		return Client{}, ErrBadCredentials
	}
	if err != nil {
		return Client{}, err
	}
	if bcrypt.CompareHashAndPassword([]byte(c.SecretHash), []byte(secret)) != nil || !c.Revoked.IsZero() {
		return Client{}, ErrBadCredentials
	}
	return c, nil
}

func (cs *Clients) dummyHash() []byte {
	cs.dummyOnce.Do(func() {
		h, _ := cs.hash(newSecret())
		cs.dummy = []byte(h)
	})
	return cs.dummy
}

// Active reports whether client id may still use its tokens: false once
// the client is revoked or gone. The API's auth
// middleware consults it (through a cache) so revocation takes effect
// before tokens expire.
func (cs *Clients) Active(ctx context.Context, id string) (bool, error) {
	c, _, err := cs.Store.Get(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return c.Revoked.IsZero(), nil
}

// AddClient adds a client to store with the default bcrypt cost; it is
// what `passline-cloud client add` calls. Print the secret once.
func AddClient(ctx context.Context, store ClientStore, spec ClientSpec) (Client, string, error) {
	return (&Clients{Store: store}).Add(ctx, spec)
}

// RotateClient gives client id a new secret; `passline-cloud client rotate`.
func RotateClient(ctx context.Context, store ClientStore, id string) (string, error) {
	return (&Clients{Store: store}).Rotate(ctx, id)
}

// RevokeClient revokes client id; `passline-cloud client revoke`.
func RevokeClient(ctx context.Context, store ClientStore, id string) error {
	return (&Clients{Store: store}).Revoke(ctx, id)
}
