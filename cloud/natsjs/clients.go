package natsjs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/token"
)

// Clients is token.ClientStore over KV PASSLINE_CLIENTS (SetupAPI or
// SetupClients), shared by every relay replica. Each client is one JSON
// value.
type Clients struct {
	KV jetstream.KeyValue
}

var _ token.ClientStore = Clients{}

// Get returns the client and its revision, or token.ErrNotFound.
func (s Clients) Get(ctx context.Context, id string) (token.Client, uint64, error) {
	e, err := s.KV.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return token.Client{}, 0, token.ErrNotFound
	}
	if err != nil {
		return token.Client{}, 0, fmt.Errorf("get client %s: %w", id, err)
	}
	var c token.Client
	if err := json.Unmarshal(e.Value(), &c); err != nil {
		return token.Client{}, 0, fmt.Errorf("decode client %s: %w", id, err)
	}
	return c, e.Revision(), nil
}

// Put creates (revision 0) or updates (matching revision) a client.
func (s Clients) Put(ctx context.Context, c token.Client, revision uint64) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if revision == 0 {
		_, err = s.KV.Create(ctx, c.ID, b)
		if errors.Is(err, jetstream.ErrKeyExists) {
			return token.ErrExists
		}
	} else {
		_, err = s.KV.Update(ctx, c.ID, b, revision)
		if isWrongSequence(err) {
			return token.ErrConflict
		}
	}
	if err != nil {
		return fmt.Errorf("put client %s: %w", c.ID, err)
	}
	return nil
}
