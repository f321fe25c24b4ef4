package token

import (
	"context"
	"sync"
)

// MemStore is a ClientStore in memory, for tests and demos. It loses
// everything when the process ends.
type MemStore struct {
	mu      sync.Mutex
	clients map[string]memEntry
}

var _ ClientStore = (*MemStore)(nil)

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
