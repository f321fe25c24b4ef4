package natsjs

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/wire"
)

// Buckets and the stream of the relay's HTTP API.
const (
	BucketClients = "PASSLINE_CLIENTS" // API clients, key {client id}
	BucketRates   = "PASSLINE_RATES"   // daily request counts, key {client}.{yyyymmdd}
	// StreamRiders keeps rider notifications for the SSE stream's replay
	// when the rider outbox is off and no other stream captures rider
	// subjects.
	StreamRiders = "RIDERS"
	// RiderReplay is how long RIDERS keeps a notification.
	RiderReplay = 24 * time.Hour
)

// API is the state of the relay's HTTP API: its buckets and, when the
// rider outbox is off, the name of the stream that holds rider
// notifications (EnsureRiderStream).
type API struct {
	Clients     Clients
	Rates       DayCounts
	Configs     StoreConfigs
	RiderStream string
}

// SetupAPI creates or updates the HTTP API's buckets (PASSLINE_CLIENTS,
// PASSLINE_RATES, wire.BucketConfig, wire.BucketConfigStatus). Like Setup,
// it is safe from every replica at once and on every start. It makes no
// rider stream: the rider outboxes keep every notification (RiderLog), and
// a relay without them calls EnsureRiderStream.
func SetupAPI(ctx context.Context, js jetstream.JetStream, replicas int) (*API, error) {
	var kvs [4]jetstream.KeyValue
	for i, cfg := range []jetstream.KeyValueConfig{
		clientsBucket(replicas),
		{Bucket: BucketRates, History: 1, TTL: 48 * time.Hour, Description: "Passline API daily request counts per client"},
		{Bucket: wire.BucketConfig, History: 5, MaxValueSize: wire.MaxPayload, Description: "store configs; key = store, watched by its agent"},
		{Bucket: wire.BucketConfigStatus, History: 5, MaxValueSize: wire.MaxPayload, Description: "each agent's config status; key = store"},
	} {
		cfg.Replicas = max(replicas, 1)
		kv, err := js.CreateOrUpdateKeyValue(ctx, cfg)
		if err != nil {
			return nil, fmt.Errorf("create bucket %s: %w", cfg.Bucket, err)
		}
		kvs[i] = kv
	}
	return &API{Clients: Clients{KV: kvs[0]}, Rates: DayCounts{KV: kvs[1]},
		Configs: StoreConfigs{Config: kvs[2], Status: kvs[3]}}, nil
}

// SetupClients creates or updates PASSLINE_CLIENTS alone, for the client
// admin commands, which may run before any relay has.
func SetupClients(ctx context.Context, js jetstream.JetStream, replicas int) (Clients, error) {
	cfg := clientsBucket(replicas)
	cfg.Replicas = max(replicas, 1)
	kv, err := js.CreateOrUpdateKeyValue(ctx, cfg)
	if err != nil {
		return Clients{}, fmt.Errorf("create bucket %s: %w", BucketClients, err)
	}
	return Clients{KV: kv}, nil
}

func clientsBucket(replicas int) jetstream.KeyValueConfig {
	return jetstream.KeyValueConfig{Bucket: BucketClients, History: 5, Replicas: max(replicas, 1),
		Description: "Passline API clients (bcrypt secret hashes)"}
}

// EnsureRiderStream makes sure a JetStream stream captures every rider
// notification (wire.RiderWildcard), so the SSE stream can replay them
// when the rider outbox, which keeps them itself, is off. It costs a
// second stored write of every notification, on one stream for the whole
// fleet. When a stream already captures them, its name is returned and
// nothing changes; otherwise RIDERS is created, keeping notifications for
// maxAge.
func EnsureRiderStream(ctx context.Context, js jetstream.JetStream, maxAge time.Duration, replicas int) (string, error) {
	name, err := js.StreamNameBySubject(ctx, wire.RiderSubject("probe", "probe"))
	if err == nil {
		return name, nil
	}
	if !errors.Is(err, jetstream.ErrStreamNotFound) {
		return "", fmt.Errorf("find rider stream: %w", err)
	}
	_, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: StreamRiders, Subjects: []string{wire.RiderWildcard}, MaxAge: maxAge,
		Replicas: max(replicas, 1), Storage: jetstream.FileStorage,
		Description: "rider notifications kept for SSE Last-Event-ID replay",
	})
	if err != nil {
		return "", fmt.Errorf("create stream %s: %w", StreamRiders, err)
	}
	return StreamRiders, nil
}
