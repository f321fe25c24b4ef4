package natsjs

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/wire"
)

// priorSpec is the fleet prior bucket: one key per store category, a few
// revisions kept so a bad fit can be rolled back by hand.
func priorSpec(dst *jetstream.KeyValue) bucketSpec {
	return bucketSpec{dst, wire.BucketModelPrior, 0, 5}
}

// PublishPriors creates or updates KV PASSLINE_MODEL_PRIOR and puts each
// category's encoded prior under its key, in key order. Agents watching a
// category apply its new prior live (or refuse a malformed one). It
// returns the revision of each key written.
func PublishPriors(ctx context.Context, js jetstream.JetStream, replicas int, priors map[string][]byte) (map[string]uint64, error) {
	var kv jetstream.KeyValue
	if err := createBuckets(ctx, js, max(replicas, 1), []bucketSpec{priorSpec(&kv)}); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(priors))
	for k := range priors {
		if !wire.ValidToken(k) {
			return nil, fmt.Errorf("prior category %q is not a token", k)
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	revs := make(map[string]uint64, len(keys))
	for _, k := range keys {
		rev, err := kv.Put(ctx, k, priors[k])
		if err != nil {
			return revs, fmt.Errorf("put prior %s: %w", k, err)
		}
		revs[k] = rev
	}
	return revs, nil
}

// PriorPublishedAt is when the prior under key of KV
// PASSLINE_MODEL_PRIOR was last put; ok is false when there is none (or
// no bucket yet).
func PriorPublishedAt(ctx context.Context, js jetstream.JetStream, key string) (at time.Time, ok bool, err error) {
	kv, err := js.KeyValue(ctx, wire.BucketModelPrior)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("open %s: %w", wire.BucketModelPrior, err)
	}
	e, err := kv.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("get prior %s: %w", key, err)
	}
	return e.Created(), true, nil
}
