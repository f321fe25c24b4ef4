package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// BucketRates is the KV bucket of shared daily counts, keyed
// {client}.{yyyymmdd}.
const BucketRates = "PASSLINE_RATES"

// DayCounter counts a client's accepted requests per day for every relay
// replica at once, so the daily cap holds across replicas.
type DayCounter interface {
	// Take adds one to client's count for day unless it already reached
	// limit; it reports whether it did and the count after.
	Take(ctx context.Context, client, day string, limit int) (ok bool, count int, err error)
}

// KVDayCounter is a DayCounter in the JetStream KV bucket PASSLINE_RATES.
// Each Take is a read and a compare-and-set write; counts expire after two
// days.
type KVDayCounter struct {
	kv jetstream.KeyValue
}

// OpenKVDayCounter creates the bucket when missing and returns the counter.
func OpenKVDayCounter(ctx context.Context, js jetstream.JetStream, replicas int) (*KVDayCounter, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: BucketRates, History: 1, TTL: 48 * time.Hour, Replicas: max(replicas, 1),
		Description: "Passline API daily request counts per client",
	})
	if err != nil {
		return nil, fmt.Errorf("open kv %s: %w", BucketRates, err)
	}
	return &KVDayCounter{kv: kv}, nil
}

// Take implements DayCounter with optimistic concurrency: it retries when
// another replica wrote the same count first.
func (c *KVDayCounter) Take(ctx context.Context, client, day string, limit int) (bool, int, error) {
	key := client + "." + day
	for range 20 {
		e, err := c.kv.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			if _, err := c.kv.Create(ctx, key, []byte("1")); err == nil {
				return true, 1, nil
			} else if !errors.Is(err, jetstream.ErrKeyExists) {
				return false, 0, fmt.Errorf("count %s: %w", key, err)
			}
			continue
		}
		if err != nil {
			return false, 0, fmt.Errorf("count %s: %w", key, err)
		}
		n, err := strconv.Atoi(string(e.Value()))
		if err != nil {
			return false, 0, fmt.Errorf("count %s: bad value %q", key, e.Value())
		}
		if n >= limit {
			return false, n, nil
		}
		if _, err := c.kv.Update(ctx, key, []byte(strconv.Itoa(n+1)), e.Revision()); err == nil {
			return true, n + 1, nil
		} else if !isWrongSequence(err) {
			return false, 0, fmt.Errorf("count %s: %w", key, err)
		}
	}
	return false, 0, fmt.Errorf("count %s: too much contention", key)
}

func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence
}
