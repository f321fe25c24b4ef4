// Package priorfit fits the prep-time model's fleet prior in the cloud
// from what the agents already sync: the ready decisions in the decision
// streams, each with its accept time and the order's facts
// (history.FromDecisions), fitted with the model's own code
// (predict.FitHistory) and published per store category in KV
// PASSLINE_MODEL_PRIOR, which every agent watches. `passline-cloud model
// fit --from-stream` does it once; a Refitter does it periodically inside
// the relay when model.refit_interval is set.
package priorfit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/agent/predict"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/history"
)

// Config is the relay's periodic re-fit (YAML section model).
type Config struct {
	// RefitInterval is how old the published default prior may get
	// before a relay fits a new one; 0 (the default) never re-fits.
	RefitInterval time.Duration `yaml:"refit_interval"`
	// History is how far back the decisions fitted on go (bounded also by
	// the decision streams' max_age).
	History time.Duration `yaml:"history"`
	// MinOrders is the fewest orders a re-fit publishes from; fewer, and
	// the prior in place is kept.
	MinOrders int `yaml:"min_orders"`
}

// DefaultConfig re-fits nothing; when enabled, from 30 days of at least
// 500 orders.
func DefaultConfig() Config { return Config{History: 30 * 24 * time.Hour, MinOrders: 500} }

// Validate names the first bad field under prefix.
func (c Config) Validate(prefix string) error {
	switch {
	case c.RefitInterval < 0:
		return fmt.Errorf("%s.refit_interval: %v is negative", prefix, c.RefitInterval)
	case c.RefitInterval > 0 && c.RefitInterval < time.Minute:
		return fmt.Errorf("%s.refit_interval: %v is under a minute; a fit reads the whole decision history", prefix, c.RefitInterval)
	case c.History <= 0:
		return fmt.Errorf("%s.history: %v must be positive", prefix, c.History)
	case c.MinOrders < 20:
		return fmt.Errorf("%s.min_orders: %d, the fit needs at least 20", prefix, c.MinOrders)
	}
	return nil
}

// ErrTooFewOrders means the decisions held fewer orders than asked for.
var ErrTooFewOrders = errors.New("too few orders to fit a fleet prior")

// Fit reads the ready decisions created since since (zero: all) from the
// decision streams and fits a fleet prior on them. It returns how many
// orders it fitted on; fewer than minOrders is ErrTooFewOrders.
func Fit(ctx context.Context, js jetstream.JetStream, since time.Time, minOrders int) (predict.Fleet, int, error) {
	ds, bad, err := natsjs.ReadyDecisions(ctx, js, since)
	if err != nil {
		return nil, 0, err
	}
	rows, skipped := history.FromDecisions(ds)
	if len(rows) < minOrders {
		return nil, len(rows), fmt.Errorf("%w: %d orders from %d ready decisions (%d without facts, %d undecodable), want %d",
			ErrTooFewOrders, len(rows), len(ds), skipped, bad, minOrders)
	}
	fl, err := predict.FitHistory(rows)
	if err != nil {
		return nil, len(rows), fmt.Errorf("fit fleet prior: %w", err)
	}
	return fl, len(rows), nil
}

// Publish puts each category's prior of fl under its key in KV
// PASSLINE_MODEL_PRIOR and returns the revisions written.
func Publish(ctx context.Context, js jetstream.JetStream, replicas int, fl predict.Fleet) (map[string]uint64, error) {
	enc := make(map[string][]byte, len(fl))
	for k, p := range fl {
		b, err := json.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("encode prior %s: %w", k, err)
		}
		enc[k] = b
	}
	return natsjs.PublishPriors(ctx, js, replicas, enc)
}

// Refitter re-fits and publishes the fleet prior when the published
// default prior is older than Config.RefitInterval. Any number of relays
// may run one: each checks the prior's age first, so after one publishes
// the others wait (two that check at once both fit, on the same data).
// Set the fields, then Start; Close stops it.
type Refitter struct {
	JS       jetstream.JetStream
	Config   Config
	Replicas int
	Log      *slog.Logger
	Now      func() time.Time

	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// Once fits and publishes unless the default prior is younger than the
// interval; it reports whether it published.
func (r *Refitter) Once(ctx context.Context) (bool, error) {
	now := r.Now()
	if at, ok, err := natsjs.PriorPublishedAt(ctx, r.JS, predict.DefaultCategory); err != nil {
		return false, err
	} else if ok && now.Sub(at) < r.Config.RefitInterval {
		return false, nil
	}
	fl, n, err := Fit(ctx, r.JS, now.Add(-r.Config.History), r.Config.MinOrders)
	if err != nil {
		return false, err
	}
	revs, err := Publish(ctx, r.JS, r.Replicas, fl)
	if err != nil {
		return false, err
	}
	r.Log.Info("fleet prior re-fitted from synced decisions", "orders", n, "categories", len(fl), "default_revision", revs[predict.DefaultCategory])
	return true, nil
}

// Start runs Once now and then every tenth of the interval (at least a
// minute), so a prior is re-fitted within a tenth of the interval of
// getting old, until Close.
func (r *Refitter) Start(ctx context.Context) {
	if r.Now == nil {
		r.Now = time.Now
	}
	if r.Log == nil {
		r.Log = slog.Default()
	}
	ctx, r.cancel = context.WithCancel(ctx)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		t := time.NewTicker(max(r.Config.RefitInterval/10, time.Minute))
		defer t.Stop()
		for {
			if _, err := r.Once(ctx); err != nil && ctx.Err() == nil {
				r.Log.Warn("fleet prior not re-fitted; the published one stays", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Close stops the re-fits and waits for one in progress.
func (r *Refitter) Close() {
	if r.cancel != nil {
		r.cancel()
	}
	r.wg.Wait()
}
