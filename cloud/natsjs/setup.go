// Package natsjs is the relay's JetStream side: the DECISIONS stream and its
// dead-letter stream, the durable consumer every replica shares, the rider
// channel, and the key-value buckets that hold the relay's state (delivered
// marks, assignments, waiting decisions, eta limits, order view, templates,
// store profiles). All state lives in JetStream, so any number of relay
// replicas can run against one NATS cluster.
package natsjs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/wire"
)

// Stream, subject and bucket names beyond those in wire.
const (
	StreamDLQ       = "DECISIONS_DLQ"
	SubjectDLQ      = "passline.dlq.*.decision" // passline.dlq.{store}.decision
	StreamOutbox    = "RIDER_OUTBOX"            // partition p of P > 1: RIDER_OUTBOX_{p}
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

// OutboxSubject is where the rider channel records and delivers decision
// id's notification to rider, in outbox partition p:
// passline.outbox.{p}.{rider}.{key of id}. The outbox stream keeps one
// message per subject and republishes it to wire.RiderSubject(rider, key).
func OutboxSubject(p int, rider, id string) string {
	return "passline.outbox." + strconv.Itoa(p) + "." + rider + "." + idKey(id)
}

// OutboxFilter is outbox partition p's subject filter.
func OutboxFilter(p int) string { return "passline.outbox." + strconv.Itoa(p) + ".*.*" }

// OutboxPartition is the outbox partition of rider's notifications, of
// parts: a rider's notifications all land in one outbox, in the order they
// were stored, so the outbox is also the rider's log (RiderLog).
func OutboxPartition(rider string, parts int) int { return wire.Partition(rider, parts) }

// RiderLog says where the rider outboxes of parts partitions keep a
// rider's notifications: the stream and the subject filter. The SSE
// stream replays from there, so no second stream stores every
// notification again.
func RiderLog(parts int) func(rider string) (stream, filter string) {
	parts = max(parts, 1)
	return func(rider string) (string, string) {
		p := OutboxPartition(rider, parts)
		return OutboxStream(p), "passline.outbox." + strconv.Itoa(p) + "." + rider + ".*"
	}
}

// OutboxStream names outbox partition p: RIDER_OUTBOX for partition 0,
// RIDER_OUTBOX_{p} for the others, whatever the partition count, so the
// outboxes a relay made stay when the count grows (a store that stays in
// its partition keeps its delivery records).
func OutboxStream(p int) string {
	if p == 0 {
		return StreamOutbox
	}
	return StreamOutbox + "_" + strconv.Itoa(p)
}

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
	// OutboxDuplicate is the rider outboxes' Nats-Msg-Id window. The relay
	// sets no Nats-Msg-Id there: the subject per decision is the dedupe,
	// and it lasts IdempotencyTTL.
	OutboxDuplicate time.Duration
	// Partitions is how many DECISIONS partitions (and rider outboxes)
	// there are; 0 or 1 is the single DECISIONS stream.
	Partitions int
}

// Buckets are the relay's key-value buckets.
type Buckets struct {
	Delivered, Assign, Pending, ETA, Orders, Templates, Stores, Riders jetstream.KeyValue
	// Priors holds the prep-time model's fleet prior per store category
	// (wire.BucketModelPrior), written by "passline-cloud model fit".
	Priors jetstream.KeyValue
	// RiderAcks holds what each order's rider acknowledged
	// (BucketRiderAcks).
	RiderAcks jetstream.KeyValue
}

// Setup creates or updates every stream and bucket the relay uses. It is
// safe to run from every replica at once and on every start. It refuses,
// with ErrPartitions, a DECISIONS stream laid out for another number of
// partitions than o.Partitions.
func Setup(ctx context.Context, js jetstream.JetStream, o Options) (*Buckets, error) {
	parts := max(o.Partitions, 1)
	if err := CheckServer(js.Conn(), parts); err != nil {
		return nil, err
	}
	if err := checkPartitions(ctx, js, parts); err != nil {
		return nil, err
	}
	streams := decisionStreams(o, parts)
	streams = append(streams, resendStream(o), jetstream.StreamConfig{
		Name: StreamDLQ, Subjects: []string{SubjectDLQ}, Replicas: o.Replicas,
		MaxAge: 14 * 24 * time.Hour, Storage: jetstream.FileStorage, Duplicates: time.Hour,
		Description: "Decisions the relay gave up on, with the reason in a header.",
	})
	for _, cfg := range streams {
		if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
			return nil, fmt.Errorf("create stream %s: %w", cfg.Name, err)
		}
	}
	for p := range parts {
		if err := setupOutbox(ctx, js, outboxStream(o, p)); err != nil {
			return nil, err
		}
	}
	return setupBuckets(ctx, js, o)
}

// decisionStreams are DECISIONS and, with more than one partition, one
// stream per partition. DECISIONS records the partition count in its
// metadata; with P > 1 it receives nothing once the servers map the
// subjects, and the relay still drains it.
func decisionStreams(o Options, parts int) []jetstream.StreamConfig {
	meta := map[string]string{wire.MetaPartitions: strconv.Itoa(parts)}
	out := []jetstream.StreamConfig{{
		Name: wire.StreamDecisions, Subjects: []string{wire.SubjectDecisions}, Replicas: o.Replicas,
		Duplicates: o.DuplicateWindow, MaxAge: o.MaxAge, Storage: jetstream.FileStorage, Metadata: meta,
		Description: "Decisions from every store; the relay's durable consumer reads them.",
	}}
	if parts == 1 {
		return out
	}
	for p := range parts {
		out = append(out, jetstream.StreamConfig{
			Name: wire.DecisionStream(p, parts), Subjects: []string{wire.DecisionStreamSubject(p, parts)}, Replicas: o.Replicas,
			Duplicates: o.DuplicateWindow, MaxAge: o.MaxAge, Storage: jetstream.FileStorage, Metadata: meta,
			Description: fmt.Sprintf("Decisions of the stores in partition %d of %d (the servers map passline.{store}.decision here).", p, parts),
		})
	}
	return out
}

// DecisionStreams are the streams the relay consumes with parts
// partitions: DECISIONS, then DECISIONS_0..DECISIONS_{parts-1}.
func DecisionStreams(parts int) []string {
	out := []string{wire.StreamDecisions}
	for p := range parts {
		if parts > 1 {
			out = append(out, wire.DecisionStream(p, parts))
		}
	}
	return out
}

// MinServer is the oldest nats-server the relay runs on: the rider
// outbox refuses a second message on a decision's subject with discard new
// per subject, which came in 2.9.
var MinServer = [3]int{2, 9, 0}

// MinServerPartitions is the oldest nats-server that can hold more than
// one partition: DECISIONS records the partition count in its stream
// metadata, which servers before 2.10 drop.
var MinServerPartitions = [3]int{2, 10, 0}

// ErrServerTooOld means the connected nats-server is older than MinServer
// (or than MinServerPartitions, with partitions). Waiting cannot fix it.
var ErrServerTooOld = errors.New("nats-server too old")

// CheckServer refuses, with ErrServerTooOld, a connection to a nats-server
// older than the relay needs with parts partitions, naming the version
// found and the one needed.
func CheckServer(nc *nats.Conn, parts int) error {
	if nc == nil {
		return nil
	}
	need, why := MinServer, "its rider outbox discards a repeat per subject"
	if parts > 1 {
		need, why = MinServerPartitions, fmt.Sprintf("stream.partitions %d is recorded in stream metadata", parts)
	}
	if !versionBefore(nc.ConnectedServerVersion(), need) {
		return nil
	}
	return fmt.Errorf("%w: connected to nats-server %s, the relay needs %d.%d.%d or newer (%s): upgrade the server",
		ErrServerTooOld, nc.ConnectedServerVersion(), need[0], need[1], need[2], why)
}

// versionBefore reports whether version ("2.9.10", "2.11.0-beta") is older
// than min. A version it cannot read is not called older.
func versionBefore(version string, min [3]int) bool {
	version, _, _ = strings.Cut(version, "-")
	parts := strings.SplitN(version, ".", 3)
	if len(parts) != 3 {
		return false
	}
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil {
			return false
		}
		if n != min[i] {
			return n < min[i]
		}
	}
	return false
}

// ErrPartitions means the streams are laid out for another number of
// partitions than the relay was configured with.
var ErrPartitions = errors.New("partition count mismatch")

// checkPartitions compares the partition count DECISIONS records (a
// stream without the record holds one) with want.
func checkPartitions(ctx context.Context, js jetstream.JetStream, want int) error {
	s, err := js.Stream(ctx, wire.StreamDecisions)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("look up stream %s: %w", wire.StreamDecisions, err)
	}
	have := StreamPartitions(s.CachedInfo().Config)
	if have != want {
		return fmt.Errorf("%w: stream %s spreads decisions over %d partition(s) but stream.partitions is %d; "+
			"the relay never changes the count by itself: set stream.partitions back to %d, or grow the count as the README's "+
			"\"Partitions\" section says (passline-cloud partitions -to %d)", ErrPartitions, wire.StreamDecisions, have, want, have, want)
	}
	return nil
}

// StreamPartitions is the partition count a DECISIONS stream config
// records; 1 when it records none (a stream made before partitions).
func StreamPartitions(cfg jetstream.StreamConfig) int {
	n, err := strconv.Atoi(cfg.Metadata[wire.MetaPartitions])
	if err != nil || n < 1 {
		return 1
	}
	return n
}

// outboxStream is partition p's rider outbox: one subject per decision,
// at most one message each, a second refused (discard new per subject).
// The stored message is both the delivery (republished to the rider
// subject) and the mark that keeps the decision from being delivered again
// for IdempotencyTTL.
func outboxStream(o Options, p int) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name: OutboxStream(p), Subjects: []string{OutboxFilter(p)}, Replicas: o.Replicas,
		Storage: jetstream.FileStorage, MaxAge: o.IdempotencyTTL, Duplicates: min(o.OutboxDuplicate, o.IdempotencyTTL),
		MaxMsgsPerSubject: 1, Discard: jetstream.DiscardNew, DiscardNewPerSubject: true,
		RePublish:   &jetstream.RePublish{Source: OutboxFilter(p), Destination: "passline.rider.{{wildcard(1)}}.notify.{{wildcard(2)}}"},
		Description: "Rider notifications, one subject per decision id: the delivery record and idempotency mark, republished to rider subjects.",
	}
}

// setupOutbox creates or updates an outbox stream. An outbox of the older
// layout (one subject per rider, memory storage) cannot be changed in
// place; it only held a few minutes of dedupe state, so it is replaced.
func setupOutbox(ctx context.Context, js jetstream.JetStream, cfg jetstream.StreamConfig) error {
	_, err := js.CreateOrUpdateStream(ctx, cfg)
	if err == nil {
		return nil
	}
	s, serr := js.Stream(ctx, cfg.Name)
	if serr != nil || s.CachedInfo().Config.MaxMsgsPerSubject == 1 {
		return fmt.Errorf("create stream %s: %w", cfg.Name, err)
	}
	if err := js.DeleteStream(ctx, cfg.Name); err != nil && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("replace stream %s of the older layout: %w", cfg.Name, err)
	}
	if _, err := js.CreateOrUpdateStream(ctx, cfg); err != nil {
		return fmt.Errorf("create stream %s: %w", cfg.Name, err)
	}
	return nil
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
		{&b.Priors, wire.BucketModelPrior}, {&b.RiderAcks, BucketRiderAcks},
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
		{&b.RiderAcks, BucketRiderAcks, RiderAckTTL, 1},
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

// SetPartitions records a new partition count on DECISIONS, the step that
// lets relays configured with stream.partitions = to start (they create
// the new streams). It refuses a count that is not a multiple of the
// current one: with to = k × P every store either stays in its partition
// or moves to one that does not exist yet, so no order's decisions are
// ever split over two live streams. It returns the count it replaced.
func SetPartitions(ctx context.Context, js jetstream.JetStream, to int) (int, error) {
	if to < 1 || to > wire.MaxPartitions {
		return 0, fmt.Errorf("%d partitions is not in 1-%d", to, wire.MaxPartitions)
	}
	s, err := js.Stream(ctx, wire.StreamDecisions)
	if err != nil {
		return 0, fmt.Errorf("look up stream %s: %w", wire.StreamDecisions, err)
	}
	cfg := s.CachedInfo().Config
	have := StreamPartitions(cfg)
	if to%have != 0 {
		return have, fmt.Errorf("%w: %d is not a multiple of the current %d partitions", ErrPartitions, to, have)
	}
	cfg.Metadata = maps.Clone(cfg.Metadata)
	if cfg.Metadata == nil {
		cfg.Metadata = map[string]string{}
	}
	cfg.Metadata[wire.MetaPartitions] = strconv.Itoa(to)
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		return have, fmt.Errorf("update stream %s: %w", wire.StreamDecisions, err)
	}
	return have, nil
}
