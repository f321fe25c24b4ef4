// Package natsjs is the relay's JetStream side: the DECISIONS stream and its
// dead-letter stream, the durable consumer every replica shares, the rider
// channel, and the key-value buckets that hold the relay's state (delivered
// marks, assignments, waiting decisions, eta limits, order view, templates,
// store profiles). All state lives in JetStream, so any number of relay
// replicas can run against one NATS cluster.
package natsjs

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/wire"
)

// Stream, subject and bucket names beyond those in wire.
const (
	StreamDLQ       = "DECISIONS_DLQ"
	SubjectDLQ      = "passline.dlq.*.decision" // passline.dlq.{store}.decision
	StreamOutbox    = "RIDER_OUTBOX"
	SubjectOutbox   = "passline.outbox.rider.*" // republished to passline.rider.{rider}.notify
	BucketDelivered = "PASSLINE_DELIVERED"
	BucketAssign    = "PASSLINE_ASSIGN"
	BucketPending   = "PASSLINE_PENDING"
	BucketETA       = "PASSLINE_ETA"
	BucketOrders    = "PASSLINE_ORDERS"
	BucketTemplates = "PASSLINE_TEMPLATES"
	BucketStores    = "PASSLINE_STORES"
	BucketRiders    = "PASSLINE_RIDERS" // key {rider}, JSON {"phone": "+86..."}

	// Headers on a dead-lettered decision.
	HeaderDLQReason     = "Passline-Dlq-Reason"
	HeaderDLQSubject    = "Passline-Dlq-Subject"
	HeaderDLQSequence   = "Passline-Dlq-Sequence"
	HeaderDLQDeliveries = "Passline-Dlq-Deliveries"
)

// DLQSubject is the dead-letter subject of a store's decisions.
func DLQSubject(store string) string { return "passline.dlq." + store + ".decision" }

// OutboxSubject is where the rider channel publishes; the RIDER_OUTBOX
// stream republishes each stored message to wire.RiderSubject(rider).
func OutboxSubject(rider string) string { return "passline.outbox.rider." + rider }

// Options size the streams and buckets.
type Options struct {
	Replicas        int
	DuplicateWindow time.Duration // DECISIONS Nats-Msg-Id dedupe
	MaxAge          time.Duration // DECISIONS retention
	IdempotencyTTL  time.Duration
	AssignmentTTL   time.Duration
	PendingTTL      time.Duration
	ETAInterval     time.Duration // 0: no eta bucket is needed, one of a minute is made
	OrderViewTTL    time.Duration
	OutboxDuplicate time.Duration // RIDER_OUTBOX dedupe window
}

// Buckets are the relay's key-value buckets.
type Buckets struct {
	Delivered, Assign, Pending, ETA, Orders, Templates, Stores, Riders jetstream.KeyValue
	// Priors holds the prep-time model's fleet prior per store category
	// (wire.BucketModelPrior), written by "passline-cloud model fit".
	Priors jetstream.KeyValue
}

// Setup creates or updates every stream and bucket the relay uses. It is
// safe to run from every replica at once and on every start.
func Setup(ctx context.Context, js jetstream.JetStream, o Options) (*Buckets, error) {
	streams := []jetstream.StreamConfig{
		{
			Name: wire.StreamDecisions, Subjects: []string{wire.SubjectDecisions}, Replicas: o.Replicas,
			Duplicates: o.DuplicateWindow, MaxAge: o.MaxAge, Storage: jetstream.FileStorage,
			Description: "Decisions from every store; the relay's durable consumer reads them.",
		},
		{
			Name: StreamDLQ, Subjects: []string{SubjectDLQ}, Replicas: o.Replicas,
			MaxAge: 14 * 24 * time.Hour, Storage: jetstream.FileStorage, Duplicates: time.Hour,
			Description: "Decisions the relay gave up on, with the reason in a header.",
		},
		{
			Name: StreamOutbox, Subjects: []string{SubjectOutbox}, Replicas: o.Replicas,
			// Memory: the outbox only carries dedupe state for a few minutes;
			// replicas keep it across a node's loss, and the delivered marks
			// cover a whole-cluster restart.
			Duplicates: o.OutboxDuplicate, MaxAge: o.OutboxDuplicate, Storage: jetstream.MemoryStorage,
			RePublish:   &jetstream.RePublish{Source: SubjectOutbox, Destination: "passline.rider.{{wildcard(1)}}.notify"},
			Description: "Rider notifications, deduplicated by decision id, republished to rider subjects.",
		},
	}
	for _, cfg := range streams {
		_, err := js.CreateOrUpdateStream(ctx, cfg)
		if err != nil && cfg.Name == StreamOutbox {
			// An outbox made by an older version (file storage) cannot be
			// switched in place; it works as it is.
			if s, serr := js.Stream(ctx, cfg.Name); serr == nil && s.CachedInfo().Config.RePublish != nil {
				err = nil
			}
		}
		if err != nil {
			return nil, fmt.Errorf("create stream %s: %w", cfg.Name, err)
		}
	}
	return setupBuckets(ctx, js, o)
}

// OpenBuckets opens the buckets Setup created, through js (another
// connection's JetStream context, say).
func OpenBuckets(ctx context.Context, js jetstream.JetStream) (*Buckets, error) {
	b := &Buckets{}
	for _, k := range []struct {
		dst  *jetstream.KeyValue
		name string
	}{
		{&b.Delivered, BucketDelivered}, {&b.Assign, BucketAssign}, {&b.Pending, BucketPending}, {&b.ETA, BucketETA},
		{&b.Orders, BucketOrders}, {&b.Templates, BucketTemplates}, {&b.Stores, BucketStores}, {&b.Riders, BucketRiders},
		{&b.Priors, wire.BucketModelPrior},
	} {
		kv, err := js.KeyValue(ctx, k.name)
		if err != nil {
			return nil, fmt.Errorf("open bucket %s: %w", k.name, err)
		}
		*k.dst = kv
	}
	return b, nil
}

func setupBuckets(ctx context.Context, js jetstream.JetStream, o Options) (*Buckets, error) {
	b := &Buckets{}
	return b, createBuckets(ctx, js, o.Replicas, []bucketSpec{
		{&b.Delivered, BucketDelivered, o.IdempotencyTTL, 1},
		{&b.Assign, BucketAssign, o.AssignmentTTL, 1},
		{&b.Pending, BucketPending, o.PendingTTL, 1},
		{&b.ETA, BucketETA, max(o.ETAInterval, time.Minute), 1},
		{&b.Orders, BucketOrders, o.OrderViewTTL, 1},
		{&b.Templates, BucketTemplates, 0, 16},
		{&b.Stores, BucketStores, 0, 4},
		{&b.Riders, BucketRiders, 0, 1},
		priorSpec(&b.Priors),
	})
}

// bucketSpec is one bucket to create and where to keep its handle.
type bucketSpec struct {
	dst     *jetstream.KeyValue
	name    string
	ttl     time.Duration
	history uint8
}

// createBuckets creates or updates each bucket with file storage and
// replicas, and sets its handle.
func createBuckets(ctx context.Context, js jetstream.JetStream, replicas int, specs []bucketSpec) error {
	for _, k := range specs {
		kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: k.name, TTL: k.ttl, History: k.history, Replicas: replicas, Storage: jetstream.FileStorage,
		})
		if err != nil {
			return fmt.Errorf("create bucket %s: %w", k.name, err)
		}
		*k.dst = kv
	}
	return nil
}
