package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"

	"github.com/nats-io/nats.go/jetstream"
)

// BucketClients is the KV bucket of API clients, keyed by client id.
const BucketClients = "PASSLINE_CLIENTS"

// MemStore is a ClientStore in memory, for tests and demos. It loses
// everything when the process ends.
type MemStore struct {
	mu      sync.Mutex
	clients map[string]memEntry
}

type memEntry struct {
	c   Client
	rev uint64
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{clients: map[string]memEntry{}} }

// Get returns the client and its revision, or ErrNotFound.
func (m *MemStore) Get(_ context.Context, id string) (Client, uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.clients[id]
	if !ok {
		return Client{}, 0, ErrNotFound
	}
	return e.c, e.rev, nil
}

// Put creates (revision 0) or updates (matching revision) a client.
func (m *MemStore) Put(_ context.Context, c Client, revision uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.clients[c.ID]
	switch {
	case revision == 0 && ok:
		return ErrExists
	case revision != 0 && (!ok || e.rev != revision):
		return ErrConflict
	}
	m.clients[c.ID] = memEntry{c: c, rev: e.rev + 1}
	return nil
}

// KVStore is a ClientStore in the JetStream KV bucket PASSLINE_CLIENTS,
// shared by every relay replica. Each client is one JSON value.
type KVStore struct {
	kv jetstream.KeyValue
}

// OpenKVStore creates the bucket when missing (with replicas copies) and
// returns the store.
func OpenKVStore(ctx context.Context, js jetstream.JetStream, replicas int) (*KVStore, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: BucketClients, History: 5, Replicas: max(replicas, 1),
		Description: "Passline API clients (bcrypt secret hashes)",
	})
	if err != nil {
		return nil, fmt.Errorf("open kv %s: %w", BucketClients, err)
	}
	return &KVStore{kv: kv}, nil
}

// Get returns the client and its revision, or ErrNotFound.
func (s *KVStore) Get(ctx context.Context, id string) (Client, uint64, error) {
	e, err := s.kv.Get(ctx, id)
	if errors.Is(err, jetstream.ErrKeyNotFound) || errors.Is(err, jetstream.ErrInvalidKey) {
		return Client{}, 0, ErrNotFound
	}
	if err != nil {
		return Client{}, 0, fmt.Errorf("get client %s: %w", id, err)
	}
	var c Client
	if err := json.Unmarshal(e.Value(), &c); err != nil {
		return Client{}, 0, fmt.Errorf("decode client %s: %w", id, err)
	}
	return c, e.Revision(), nil
}

// Put creates (revision 0) or updates (matching revision) a client.
func (s *KVStore) Put(ctx context.Context, c Client, revision uint64) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if revision == 0 {
		_, err = s.kv.Create(ctx, c.ID, b)
		if errors.Is(err, jetstream.ErrKeyExists) {
			return ErrExists
		}
	} else {
		_, err = s.kv.Update(ctx, c.ID, b, revision)
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence {
			return ErrConflict
		}
	}
	if err != nil {
		return fmt.Errorf("put client %s: %w", c.ID, err)
	}
	return nil
}
