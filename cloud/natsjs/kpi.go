package natsjs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/passline/passline/cloud/kpi"
	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/wire"
)

// Buckets and the durable consumer of the readiness KPIs (cloud/kpi).
const (
	// BucketKPIFacts holds each order's kpi.Facts under
	// {store}.{base64url order id}, for KPIFactsTTL.
	BucketKPIFacts = "PASSLINE_KPI_FACTS"
	// BucketKPIHours holds each store's kpi.Hour under
	// wire.KPIHourKey, {YYYYMMDDHH}.{store} (UTC), for KPIHoursTTL.
	BucketKPIHours = wire.BucketKPIHours
	// DurableKPI is the KPI recorder's durable consumer on every decision
	// stream and on the platform orders bucket's stream, shared by every
	// replica.
	DurableKPI = "passline-kpi"
)

// KPIFactsTTL is how long an order's facts are kept: a late pickup or a
// decision replayed after an outage of up to this long still lands on it.
const KPIFactsTTL = 3 * 24 * time.Hour

// KPIHoursTTL is how long hourly KPIs are kept.
const KPIHoursTTL = 400 * 24 * time.Hour

// KPIBuckets are the KPI recorder's buckets.
type KPIBuckets struct{ Facts, Hours jetstream.KeyValue }

// SetupKPI creates or updates the KPI buckets and the platform orders
// bucket the recorder reads arrivals and pickups from.
func SetupKPI(ctx context.Context, js jetstream.JetStream, replicas int) (*KPIBuckets, error) {
	if _, err := SetupPlatform(ctx, js, replicas); err != nil {
		return nil, err
	}
	b := &KPIBuckets{}
	return b, createBuckets(ctx, js, max(replicas, 1), []bucketSpec{
		{&b.Facts, BucketKPIFacts, KPIFactsTTL, 1},
		{&b.Hours, BucketKPIHours, KPIHoursTTL, 1},
	})
}

// KPIStore implements kpi.Store on the KPI buckets.
type KPIStore struct{ FactsKV, HoursKV jetstream.KeyValue }

var _ kpi.Store = KPIStore{}

// UpdateFacts implements kpi.Store.
func (s KPIStore) UpdateFacts(ctx context.Context, store, order string, fn func(*kpi.Facts) bool) (kpi.Facts, error) {
	var f kpi.Facts
	err := casJSON(ctx, s.FactsKV, store+"."+enc(order), &f, func() bool { return fn(&f) })
	return f, err
}

// UpdateHour implements kpi.Store.
func (s KPIStore) UpdateHour(ctx context.Context, store string, hour time.Time, fn func(*kpi.Hour) bool) error {
	var h kpi.Hour
	return casJSON(ctx, s.HoursKV, wire.KPIHourKey(store, hour), &h, func() bool { return fn(&h) })
}

// Hours implements kpi.Store: one Get per hour of [from, to).
func (s KPIStore) Hours(ctx context.Context, store string, from, to time.Time) ([]kpi.Hour, error) {
	var out []kpi.Hour
	for t := from.UTC().Truncate(time.Hour); t.Before(to); t = t.Add(time.Hour) {
		h, ok, err := s.hour(ctx, wire.KPIHourKey(store, t))
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, h)
		}
	}
	return out, nil
}

// Fleet returns every store's hour records of the hour starting at hour.
func (s KPIStore) Fleet(ctx context.Context, hour time.Time) ([]kpi.Hour, error) {
	prefix := hour.UTC().Format("2006010215")
	lister, err := s.HoursKV.ListKeysFiltered(ctx, prefix+".*")
	if err != nil {
		return nil, fmt.Errorf("list kpi hours %s: %w", prefix, err)
	}
	var out []kpi.Hour
	for key := range lister.Keys() {
		h, ok, err := s.hour(ctx, key)
		if err != nil {
			_ = lister.Stop()
			return nil, err
		}
		if ok {
			out = append(out, h)
		}
	}
	return out, nil
}

func (s KPIStore) hour(ctx context.Context, key string) (kpi.Hour, bool, error) {
	var h kpi.Hour
	e, err := s.HoursKV.Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return h, false, nil
	}
	if err != nil {
		return h, false, fmt.Errorf("get kpi hour %s: %w", key, err)
	}
	if err := json.Unmarshal(e.Value(), &h); err != nil {
		return h, false, fmt.Errorf("decode kpi hour %s: %w", key, err)
	}
	return h, true, nil
}

// casJSON reads key into v (left zero when missing), calls change, and
// when it reports a change writes v back with compare-and-set, starting
// over when another writer got there first.
func casJSON(ctx context.Context, kv jetstream.KeyValue, key string, v any, change func() bool) error {
	for try := range 32 {
		var rev uint64
		e, err := kv.Get(ctx, key)
		switch {
		case errors.Is(err, jetstream.ErrKeyNotFound):
		case err != nil:
			return err
		default:
			if err := json.Unmarshal(e.Value(), v); err != nil {
				return fmt.Errorf("decode %s: %w", key, err)
			}
			rev = e.Revision()
		}
		if !change() {
			return nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		if rev == 0 {
			_, err = kv.Create(ctx, key, b)
		} else {
			_, err = kv.Update(ctx, key, b, rev)
		}
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !isWrongSequence(err) {
			return err
		}
		reset(v)
		time.Sleep(time.Duration(rand.Int64N(int64(1)<<min(try, 6))) * time.Millisecond)
	}
	return fmt.Errorf("%s: too many concurrent updates", key)
}

// reset zeroes what v points to before it is read again.
func reset(v any) {
	switch p := v.(type) {
	case *kpi.Facts:
		*p = kpi.Facts{}
	case *kpi.Hour:
		*p = kpi.Hour{}
	}
}

// KPIConsumer feeds a kpi.Recorder from the decision streams and from the
// platform orders bucket's stream (rider arrival and pickup), each through
// the durable DurableKPI shared by every replica. Messages go to Workers
// workers by their subject (a store's decisions, one order's platform
// record), so one store's decisions are recorded in stream order and
// different stores' side by side. A message is acked after its facts and
// hour are written, NAKed with a delay when a write fails; one that does
// not decode is acked. Recording is idempotent, so a redelivery after a
// crash changes nothing twice.
type KPIConsumer struct {
	JS       jetstream.JetStream
	Streams  []string // decision streams (DecisionStreams)
	Recorder *kpi.Recorder
	Log      *slog.Logger
	Metrics  *KPIMetrics // nil: none
	// AckWait bounds one message's recording; 0 means 30 s.
	AckWait time.Duration
	// Workers record side by side; 0 means 8.
	Workers int

	mu      sync.Mutex
	ccs     []jetstream.ConsumeContext
	queues  []chan kpiJob
	ctx     context.Context
	cancel  context.CancelFunc
	workers sync.WaitGroup
}

// kpiJob is one message and what records it.
type kpiJob struct {
	m      jetstream.Msg
	stream string
	handle func(context.Context, jetstream.Msg) error
}

// Start creates the durable consumers and starts consuming.
func (c *KPIConsumer) Start(ctx context.Context) error {
	c.ctx, c.cancel = context.WithCancel(ctx)
	n := c.Workers
	if n <= 0 {
		n = 8
	}
	c.queues = make([]chan kpiJob, n)
	for i := range c.queues {
		c.queues[i] = make(chan kpiJob, 32)
		c.workers.Add(1)
		go func() {
			defer c.workers.Done()
			c.work(c.queues[i])
		}()
	}
	for _, s := range c.Streams {
		if err := c.consume(ctx, s, "", c.decision); err != nil {
			c.Close()
			return err
		}
	}
	filter := "$KV." + BucketPlatformOrders + ".o.>"
	if err := c.consume(ctx, "KV_"+BucketPlatformOrders, filter, c.platformOrder); err != nil {
		c.Close()
		return err
	}
	return nil
}

func (c *KPIConsumer) consume(ctx context.Context, stream, filter string, handle func(context.Context, jetstream.Msg) error) error {
	wait := c.AckWait
	if wait <= 0 {
		wait = 30 * time.Second
	}
	cons, err := c.JS.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable: DurableKPI, AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
		FilterSubject: filter, AckWait: wait, MaxAckPending: 256,
		Description: "Readiness KPIs (cloud/kpi): facts per order, contributions per store and hour.",
	})
	if err != nil {
		return fmt.Errorf("kpi consumer on %s: %w", stream, err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		h := fnv.New32a()
		_, _ = h.Write([]byte(m.Subject()))
		select {
		case c.queues[h.Sum32()%uint32(len(c.queues))] <- kpiJob{m: m, stream: stream, handle: handle}:
		case <-c.ctx.Done(): // closing: redelivered after AckWait
		}
	})
	if err != nil {
		return fmt.Errorf("consume %s for kpi: %w", stream, err)
	}
	c.mu.Lock()
	c.ccs = append(c.ccs, cc)
	c.mu.Unlock()
	return nil
}

// work records the jobs of one queue, one after the other.
func (c *KPIConsumer) work(q <-chan kpiJob) {
	wait := c.AckWait
	if wait <= 0 {
		wait = 30 * time.Second
	}
	for {
		var j kpiJob
		select {
		case <-c.ctx.Done():
			return
		case j = <-q:
		}
		ctx, cancel := context.WithTimeout(c.ctx, wait)
		err := j.handle(ctx, j.m)
		cancel()
		if err != nil {
			c.Metrics.count(false)
			c.Log.Warn("kpi record failed; retrying", "stream", j.stream, "err", err)
			_ = j.m.NakWithDelay(time.Second)
			continue
		}
		c.Metrics.count(true)
		_ = j.m.Ack()
	}
}

func (c *KPIConsumer) decision(ctx context.Context, m jetstream.Msg) error {
	d, err := wire.DecodeDecision(m.Data())
	if err != nil {
		c.Log.Debug("kpi: bad decision skipped", "subject", m.Subject(), "err", err)
		return nil // the relay dead-letters it; nothing to count
	}
	return c.Recorder.Decision(ctx, d)
}

func (c *KPIConsumer) platformOrder(ctx context.Context, m jetstream.Msg) error {
	if len(m.Data()) == 0 {
		return nil // a delete or purge marker
	}
	var o platform.Order
	if err := json.Unmarshal(m.Data(), &o); err != nil {
		c.Log.Debug("kpi: bad platform order skipped", "subject", m.Subject(), "err", err)
		return nil
	}
	return c.Recorder.Platform(ctx, o)
}

// Close stops consuming and waits for the workers; messages not yet acked
// are redelivered.
func (c *KPIConsumer) Close() {
	c.mu.Lock()
	for _, cc := range c.ccs {
		cc.Stop()
	}
	c.ccs = nil
	c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
	}
	c.workers.Wait()
}

// KPIMetrics count the KPI recorder's work.
type KPIMetrics struct{ recorded, failed prometheus.Counter }

// NewKPIMetrics registers the recorder's counters on reg.
func NewKPIMetrics(reg prometheus.Registerer) *KPIMetrics {
	m := &KPIMetrics{
		recorded: prometheus.NewCounter(prometheus.CounterOpts{Name: "passline_kpi_records_total",
			Help: "Decisions and platform order records the KPI recorder applied (a redelivery counts again, but changes nothing)."}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{Name: "passline_kpi_record_errors_total",
			Help: "KPI records that failed to write and will be retried."}),
	}
	reg.MustRegister(m.recorded, m.failed)
	return m
}

func (m *KPIMetrics) count(ok bool) {
	switch {
	case m == nil:
	case ok:
		m.recorded.Inc()
	default:
		m.failed.Inc()
	}
}
