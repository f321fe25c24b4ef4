package natsjs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/passline/passline/cloud/relay"
	"github.com/passline/passline/cloud/template"
)

// watch runs fn for every current and future entry of kv until ctx ends.
// ready is closed once the current entries have been applied.
func watch(ctx context.Context, kv jetstream.KeyValue, wg *sync.WaitGroup, ready chan<- struct{}, fn func(jetstream.KeyValueEntry)) error {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return fmt.Errorf("watch %s: %w", kv.Bucket(), err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer w.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					return
				}
				if e == nil {
					close(ready)
					continue
				}
				fn(e)
			}
		}
	}()
	return nil
}

// Templates keeps a template.Set in step with PASSLINE_TEMPLATES (keys
// {merchant}.{kind}.{locale}, the KV revision as version). An entry that does
// not compile is refused, counted and logged; the version already live stays.
// Uploads through PutTemplate are checked before they are written.
type Templates struct {
	KV      jetstream.KeyValue
	Set     *template.Set
	Log     *slog.Logger
	Metrics *WatchMetrics

	wg     sync.WaitGroup
	cancel context.CancelFunc
}

// Start applies the bucket's current templates, then follows changes.
func (t *Templates) Start(ctx context.Context) error {
	ctx, t.cancel = context.WithCancel(ctx)
	ready := make(chan struct{})
	err := watch(ctx, t.KV, &t.wg, ready, func(e jetstream.KeyValueEntry) {
		k, err := template.ParseKey(e.Key())
		if err != nil {
			t.Log.Warn("template key refused", "key", e.Key(), "err", err)
			return
		}
		if e.Operation() != jetstream.KeyValuePut {
			t.Set.Delete(k)
			return
		}
		if err := t.Set.Put(k, string(e.Value()), e.Revision()); err != nil {
			t.Metrics.refused.Inc()
			t.Log.Warn("template refused; previous version stays live", "key", e.Key(), "revision", e.Revision(), "err", err)
			return
		}
		t.Metrics.applied.Inc()
	})
	if err != nil {
		return err
	}
	return waitReady(ctx, ready, t.KV.Bucket())
}

func waitReady(ctx context.Context, ready <-chan struct{}, bucket string) error {
	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(30 * time.Second):
		return fmt.Errorf("watch %s: initial values not received in 30s", bucket)
	}
}

// Close stops following changes.
func (t *Templates) Close() {
	if t.cancel != nil {
		t.cancel()
	}
	t.wg.Wait()
}

// PutTemplate checks src and stores it as the next version of k. A template
// that does not compile is refused with its line and reason
// (*template.ParseError) and nothing is written.
func (t *Templates) PutTemplate(ctx context.Context, k template.Key, src string) (uint64, error) {
	if err := k.Validate(); err != nil {
		return 0, err
	}
	if _, err := template.Compile(src, 0); err != nil {
		return 0, err
	}
	return t.KV.Put(ctx, k.String(), []byte(src))
}

// GetTemplate returns the stored source and version of k.
func (t *Templates) GetTemplate(ctx context.Context, k template.Key) (string, uint64, bool, error) {
	e, err := t.KV.Get(ctx, k.String())
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return "", 0, false, nil
	}
	if err != nil {
		return "", 0, false, err
	}
	return string(e.Value()), e.Revision(), true, nil
}

// Profiles keeps store profiles (PASSLINE_STORES, key {store}, JSON
// relay.Profile) in memory, following changes.
type Profiles struct {
	KV  jetstream.KeyValue
	Log *slog.Logger

	mu     sync.RWMutex
	m      map[string]relay.Profile
	wg     sync.WaitGroup
	cancel context.CancelFunc
}

// Start loads the current profiles, then follows changes.
func (p *Profiles) Start(ctx context.Context) error {
	ctx, p.cancel = context.WithCancel(ctx)
	p.m = map[string]relay.Profile{}
	ready := make(chan struct{})
	err := watch(ctx, p.KV, &p.wg, ready, func(e jetstream.KeyValueEntry) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if e.Operation() != jetstream.KeyValuePut {
			delete(p.m, e.Key())
			return
		}
		var pr relay.Profile
		if err := json.Unmarshal(e.Value(), &pr); err != nil {
			p.Log.Warn("store profile refused", "store", e.Key(), "err", err)
			return
		}
		p.m[e.Key()] = pr
	})
	if err != nil {
		return err
	}
	return waitReady(ctx, ready, p.KV.Bucket())
}

// Profile implements relay.Profiles.
func (p *Profiles) Profile(store string) relay.Profile {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.m[store]
}

// Close stops following changes.
func (p *Profiles) Close() {
	if p.cancel != nil {
		p.cancel()
	}
	p.wg.Wait()
}

// WatchMetrics count template changes applied and refused.
type WatchMetrics struct {
	applied, refused prometheus.Counter
}

// NewWatchMetrics creates the collectors and registers them with reg.
func NewWatchMetrics(reg prometheus.Registerer) *WatchMetrics {
	m := &WatchMetrics{
		applied: prometheus.NewCounter(prometheus.CounterOpts{Name: "passline_relay_templates_applied_total", Help: "Merchant template versions made live."}),
		refused: prometheus.NewCounter(prometheus.CounterOpts{Name: "passline_relay_templates_refused_total", Help: "Merchant template versions refused."}),
	}
	reg.MustRegister(m.applied, m.refused)
	return m
}
