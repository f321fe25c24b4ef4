package natsjs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/httpapi"
	"github.com/passline/passline/wire"
)

// StoreConfigs is httpapi.StoreConfigs over KV PASSLINE_CONFIG (key
// {store}, read by the store's agent) and PASSLINE_CONFIG_STATUS (key
// {store}, written by it); SetupAPI creates both.
type StoreConfigs struct {
	Config, Status jetstream.KeyValue
}

var _ httpapi.StoreConfigs = StoreConfigs{}

// PutConfig implements httpapi.StoreConfigs.
func (k StoreConfigs) PutConfig(ctx context.Context, store string, c wire.StoreConfig) (uint64, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return 0, fmt.Errorf("encode config of %s: %w", store, err)
	}
	return k.Config.Put(ctx, store, b)
}

// ConfigState implements httpapi.StoreConfigs.
func (k StoreConfigs) ConfigState(ctx context.Context, store string) (uint64, wire.ConfigStatus, bool, error) {
	var rev uint64
	e, err := k.Config.Get(ctx, store)
	switch {
	case err == nil:
		rev = e.Revision()
	case !errors.Is(err, jetstream.ErrKeyNotFound):
		return 0, wire.ConfigStatus{}, false, fmt.Errorf("get config of %s: %w", store, err)
	}
	var st wire.ConfigStatus
	e, err = k.Status.Get(ctx, store)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		return rev, st, false, nil
	case err != nil:
		return rev, st, false, fmt.Errorf("get config status of %s: %w", store, err)
	}
	if err := json.Unmarshal(e.Value(), &st); err != nil {
		return rev, st, false, fmt.Errorf("decode config status of %s: %w", store, err)
	}
	return rev, st, true, nil
}
