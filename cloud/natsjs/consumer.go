package natsjs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/passline/passline/cloud/relay"
	"github.com/passline/passline/wire"
)

// Handler handles one decision message; relay.Relay.HandleDelivery is one.
type Handler func(ctx context.Context, d relay.Delivery) relay.Outcome

// Handlers spreads workers over several handlers (one per NATS connection):
// worker w uses Handlers[w%len(Handlers)].
type Handlers []Handler

// Consumer reads DECISIONS through a durable pull consumer shared by every
// replica and hands each message to Handler on a fixed pool of workers. It
// acks after Handler returns Ack, NAKs with backoff on Retry, and after
// MaxDeliver attempts (or at once on Dead) publishes the decision with its
// reason to DECISIONS_DLQ and acks it there. A message in flight when the
// process dies is redelivered after AckWait.
type Consumer struct {
	JS            jetstream.JetStream
	Durable       string
	MaxDeliver    int
	AckWait       time.Duration
	MaxAckPending int
	Backoff       []time.Duration
	Workers       int
	Handlers      Handlers
	Log           *slog.Logger
	Metrics       *ConsumerMetrics

	cancel context.CancelFunc
	mu     sync.Mutex
	cc     jetstream.ConsumeContext
	jobs   chan jetstream.Msg
	lost   chan struct{}
	closed bool
	wg     sync.WaitGroup
}

// Start creates or updates the durable consumer and starts consuming. If
// the consumer is later deleted (a stream recreated by an operator), it is
// recreated and consuming resumes.
func (c *Consumer) Start(ctx context.Context) error {
	ctx, c.cancel = context.WithCancel(ctx)
	c.jobs = make(chan jetstream.Msg, c.Workers)
	c.lost = make(chan struct{}, 1)
	if err := c.consume(ctx); err != nil {
		c.cancel()
		return err
	}
	for w := range c.Workers {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.work(ctx, c.Handlers[w%len(c.Handlers)])
		}()
	}
	c.wg.Add(2)
	go func() {
		defer c.wg.Done()
		c.watchDLQ(ctx)
	}()
	go func() {
		defer c.wg.Done()
		c.supervise(ctx)
	}()
	return nil
}

// consume (re)creates the durable consumer and starts pulling from it.
func (c *Consumer) consume(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cons, err := c.JS.CreateOrUpdateConsumer(cctx, wire.StreamDecisions, jetstream.ConsumerConfig{
		Durable: c.Durable, AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxDeliver: c.MaxDeliver, AckWait: c.AckWait, MaxAckPending: c.MaxAckPending,
		FilterSubject: wire.SubjectDecisions,
	})
	if err != nil {
		return fmt.Errorf("create consumer %s: %w", c.Durable, err)
	}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case c.jobs <- m:
		case <-ctx.Done(): // not acked: redelivered to a live replica
		}
	}, jetstream.PullMaxMessages(2*c.Workers), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		c.Log.Warn("consume", "err", err)
		if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
			select {
			case c.lost <- struct{}{}:
			default:
			}
		}
	}))
	if err != nil {
		return fmt.Errorf("consume %s: %w", c.Durable, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		cc.Stop()
		return nil
	}
	if c.cc != nil {
		c.cc.Stop()
	}
	c.cc = cc
	return nil
}

// supervise recreates the consumer when it is lost, retrying every second.
func (c *Consumer) supervise(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.lost:
		}
		for {
			err := c.consume(ctx)
			if err == nil {
				c.Log.Info("consumer recreated", "durable", c.Durable)
				break
			}
			c.Log.Warn("recreate consumer; retrying", "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
}

// Close stops pulling, lets the workers finish the message in hand, and
// NAKs messages fetched but not yet handled, so another replica gets them
// at once instead of after AckWait.
func (c *Consumer) Close() {
	c.mu.Lock()
	c.closed = true // consume starts no new pull
	if c.cc != nil {
		c.cc.Stop()
	}
	c.mu.Unlock()
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
	for {
		select {
		case m := <-c.jobs:
			_ = m.Nak()
		default:
			return
		}
	}
}

func (c *Consumer) work(ctx context.Context, h Handler) {
	for {
		select {
		case <-ctx.Done():
			return
		case m := <-c.jobs:
			c.handle(ctx, h, m)
		}
	}
}

func (c *Consumer) handle(ctx context.Context, h Handler, m jetstream.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		c.Log.Error("message without metadata", "err", err)
		c.ack(m, "term")
		return
	}
	out := h(ctx, relay.Delivery{Raw: m.Data(), Attempt: int(meta.NumDelivered), StoredAt: meta.Timestamp})
	if ctx.Err() != nil && out.Action == relay.Retry {
		return // shutting down: leave it for redelivery
	}
	switch out.Action {
	case relay.Ack:
		c.ack(m, "ack")
	case relay.Dead:
		c.deadLetter(ctx, m, meta, out.Result+": "+errText(out.Err))
	case relay.Retry:
		if int(meta.NumDelivered) >= c.MaxDeliver {
			c.deadLetter(ctx, m, meta, fmt.Sprintf("gave up after %d deliveries: %s", meta.NumDelivered, errText(out.Err)))
			return
		}
		c.Log.Warn("decision delivery failed; will retry", "seq", meta.Sequence.Stream, "delivery", meta.NumDelivered, "err", out.Err)
		_ = m.NakWithDelay(c.backoff(int(meta.NumDelivered)))
		c.Metrics.acks.WithLabelValues("nak").Inc()
	}
}

func errText(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

func (c *Consumer) ack(m jetstream.Msg, how string) {
	var err error
	if how == "term" {
		err = m.Term()
	} else {
		err = m.Ack()
	}
	if err != nil {
		c.Log.Warn("ack failed", "err", err)
	}
	c.Metrics.acks.WithLabelValues(how).Inc()
}

func (c *Consumer) backoff(delivery int) time.Duration {
	if len(c.Backoff) == 0 {
		return time.Second
	}
	return c.Backoff[min(delivery, len(c.Backoff))-1]
}

func (c *Consumer) deadLetter(ctx context.Context, m jetstream.Msg, meta *jetstream.MsgMetadata, reason string) {
	store, err := wire.ParseDecisionSubject(m.Subject())
	if err != nil {
		store = "unknown"
	}
	dl := nats.NewMsg(DLQSubject(store))
	dl.Data = m.Data()
	if len(reason) > 1024 {
		reason = reason[:1024]
	}
	dl.Header.Set(HeaderDLQReason, reason)
	dl.Header.Set(HeaderDLQSubject, m.Subject())
	dl.Header.Set(HeaderDLQSequence, strconv.FormatUint(meta.Sequence.Stream, 10))
	dl.Header.Set(HeaderDLQDeliveries, strconv.FormatUint(meta.NumDelivered, 10))
	dl.Header.Set(wire.HeaderMsgID, "dlq."+strconv.FormatUint(meta.Sequence.Stream, 10))
	if _, err := c.JS.PublishMsg(ctx, dl); err != nil {
		c.Log.Error("dead-letter publish failed; will retry", "seq", meta.Sequence.Stream, "err", err)
		_ = m.NakWithDelay(c.backoff(len(c.Backoff) + 1))
		return
	}
	c.Log.Warn("decision dead-lettered", "seq", meta.Sequence.Stream, "reason", reason)
	c.Metrics.dead.Inc()
	c.ack(m, "dead")
}

func (c *Consumer) watchDLQ(ctx context.Context) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		if s, err := c.JS.Stream(ctx, StreamDLQ); err == nil {
			if info, err := s.Info(ctx); err == nil {
				c.Metrics.dlqDepth.Set(float64(info.State.Msgs))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ConsumerMetrics are the consumer's collectors.
type ConsumerMetrics struct {
	acks     *prometheus.CounterVec
	dead     prometheus.Counter
	dlqDepth prometheus.Gauge
}

// NewConsumerMetrics creates the collectors and registers them with reg.
func NewConsumerMetrics(reg prometheus.Registerer) *ConsumerMetrics {
	m := &ConsumerMetrics{
		acks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "passline_relay_acks_total", Help: "Decision messages settled, by ack, nak or term.",
		}, []string{"how"}),
		dead: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "passline_relay_dead_lettered_total", Help: "Decisions sent to DECISIONS_DLQ.",
		}),
		dlqDepth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "passline_relay_dlq_depth", Help: "Messages in DECISIONS_DLQ.",
		}),
	}
	reg.MustRegister(m.acks, m.dead, m.dlqDepth)
	return m
}
