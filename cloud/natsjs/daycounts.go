package natsjs

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/ratelimit"
)

// DayCounts is ratelimit.DayCounter over KV PASSLINE_RATES (SetupAPI).
// Each Take is a read and a compare-and-set write; counts expire after two
// days.
type DayCounts struct {
	KV jetstream.KeyValue
}

var _ ratelimit.DayCounter = DayCounts{}

// Take implements ratelimit.DayCounter with optimistic concurrency: it retries when
// another replica wrote the same count first.
func (c DayCounts) Take(ctx context.Context, client, day string, limit int) (bool, int, error) {
	key := client + "." + day
	for try := range 20 {
		if try > 0 && !backOff(ctx, try) {
			return false, 0, fmt.Errorf("count %s: %w", key, ctx.Err())
		}
		e, err := c.KV.Get(ctx, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			if _, err := c.KV.Create(ctx, key, []byte("1")); err == nil {
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
		if _, err := c.KV.Update(ctx, key, []byte(strconv.Itoa(n+1)), e.Revision()); err == nil {
			return true, n + 1, nil
		} else if !isWrongSequence(err) {
			return false, 0, fmt.Errorf("count %s: %w", key, err)
		}
	}
	return false, 0, fmt.Errorf("count %s: too much contention", key)
}

// backOff waits a random time below 2^min(try,6) ms after the try-th lost
// compare-and-set, so replicas that collided do not collide again in step.
// It reports false when ctx ends first.
func backOff(ctx context.Context, try int) bool {
	return sleep(ctx, time.Duration(rand.Int64N(int64(time.Millisecond)<<min(try, 6))))
}
