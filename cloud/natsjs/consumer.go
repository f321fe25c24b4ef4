package natsjs

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/passline/passline/cloud/relay"
	"github.com/passline/passline/wire"
)

// Handler handles one decision message and calls done once with the
// outcome, perhaps later and on another goroutine; relay.Relay.HandleAsync
// is one.
type Handler func(ctx context.Context, d relay.Delivery, done func(relay.Outcome))

// Handlers spreads workers over several handlers (one per NATS connection):
// worker w uses Handlers[w%len(Handlers)].
type Handlers []Handler

// Consumer reads the decision streams (DECISIONS and its partitions)
// through a durable pull consumer on each, shared by every replica, and
// pipelines them: a decision goes to the worker its order hashes to, so one
// order's decisions are handed over in stream order while other orders'
// run beside them, and up to Window decisions are in flight at once. Each
// is acked when its handler reports Ack (after the rider outbox's ack),
// NAKed with backoff on Retry, and after MaxDeliver attempts (or at once on
// Dead) published with its reason to DECISIONS_DLQ and acked there. A
// message in flight when the process dies is redelivered after AckWait.
type Consumer struct {
	JS            jetstream.JetStream
	Streams       []string // default: DECISIONS alone
	Durable       string
	MaxDeliver    int
	AckWait       time.Duration
	MaxAckPending int
	Backoff       []time.Duration
	Workers       int
	Window        int // decisions in flight per replica; default 4 × Workers
	// Partitions > 1 makes a decision that arrives on DECISIONS itself (not
	// its partition's stream) a sign that a server lacks the subject
	// mapping: it is relayed all the same, counted and warned about.
	Partitions int
	Handlers   Handlers
	Log        *slog.Logger
	Metrics    *ConsumerMetrics

	cancel   context.CancelFunc
	mu       sync.Mutex
	ccs      map[string]jetstream.ConsumeContext
	queues   []*orderQueue
	inflight chan struct{} // one token per decision handed over and not yet settled
	lost     chan string
	closed   bool
	warned   atomic.Int64 // unix seconds of the last unmapped warning
	wg       sync.WaitGroup
	settling sync.WaitGroup
}

// Start creates or updates the durable consumers and starts consuming. If
// one is later deleted (a stream recreated by an operator), it is recreated
// and consuming resumes.
func (c *Consumer) Start(ctx context.Context) error {
	ctx, c.cancel = context.WithCancel(ctx)
	if len(c.Streams) == 0 {
		c.Streams = []string{wire.StreamDecisions}
	}
	if c.Window <= 0 {
		c.Window = 4 * c.Workers
	}
	c.inflight = make(chan struct{}, c.Window)
	c.lost = make(chan string, len(c.Streams))
	c.ccs = make(map[string]jetstream.ConsumeContext)
	c.queues = make([]*orderQueue, c.Workers)
	for w := range c.queues {
		c.queues[w] = &orderQueue{ready: make(chan struct{}, 1)}
	}
	for _, stream := range c.Streams {
		if err := c.consume(ctx, stream); err != nil {
			c.cancel()
			c.stopAll()
			return err
		}
	}
	for w := range c.Workers {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.work(ctx, c.queues[w], c.Handlers[w%len(c.Handlers)])
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

// consume (re)creates stream's durable consumer and starts pulling from it.
func (c *Consumer) consume(ctx context.Context, stream string) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	cons, err := c.JS.CreateOrUpdateConsumer(cctx, stream, jetstream.ConsumerConfig{
		Durable: c.Durable, AckPolicy: jetstream.AckExplicitPolicy, DeliverPolicy: jetstream.DeliverAllPolicy,
		MaxDeliver: c.MaxDeliver, AckWait: c.AckWait, MaxAckPending: c.MaxAckPending,
	})
	if err != nil {
		return fmt.Errorf("create consumer %s on %s: %w", c.Durable, stream, err)
	}
	// With partitions, what DECISIONS itself holds missed the mapping.
	unmapped := c.Partitions > 1 && stream == wire.StreamDecisions
	cc, err := cons.Consume(func(m jetstream.Msg) { c.dispatch(ctx, m, unmapped) },
		jetstream.PullMaxMessages(min(c.Window, c.MaxAckPending)), jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			c.Log.Warn("consume", "stream", stream, "err", err)
			if errors.Is(err, jetstream.ErrConsumerDeleted) || errors.Is(err, jetstream.ErrConsumerNotFound) {
				select {
				case c.lost <- stream:
				default:
				}
			}
		}))
	if err != nil {
		return fmt.Errorf("consume %s on %s: %w", c.Durable, stream, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		cc.Stop()
		return nil
	}
	if old := c.ccs[stream]; old != nil {
		old.Stop()
	}
	c.ccs[stream] = cc
	return nil
}

// dispatch takes a window slot (waiting while the window is full, which
// holds back the pulls) and queues m on the worker its order hashes to.
// Only the window waits: a worker's queue takes whatever the window lets
// in, so one worker that has not run yet holds up its own orders and no
// one else's.
func (c *Consumer) dispatch(ctx context.Context, m jetstream.Msg, unmapped bool) {
	select {
	case c.inflight <- struct{}{}:
	case <-ctx.Done():
		return // not acked: redelivered to a live replica
	}
	if ctx.Err() != nil {
		<-c.inflight
		return
	}
	w, d := c.worker(m)
	c.queues[w].push(decisionMsg{m, d, unmapped})
}

// orderQueue is one worker's FIFO of decisions. It has no bound of its
// own: every decision in it holds a window slot, so all of them together
// hold at most Window. (A bounded channel per worker, Window/Workers deep,
// made dispatch wait whenever the one worker an order hashed to was
// behind, and every later decision of every order waited with it: at half
// load the decisions sat 8 ms at the median and 116 ms at p99 in those
// queues.)
type orderQueue struct {
	mu    sync.Mutex
	items []decisionMsg
	ready chan struct{} // capacity 1: items were added since the worker last looked
}

func (q *orderQueue) push(j decisionMsg) {
	q.mu.Lock()
	q.items = append(q.items, j)
	q.mu.Unlock()
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take returns what is queued, in order, and keeps spare (emptied) as the
// queue's next buffer.
func (q *orderQueue) take(spare []decisionMsg) []decisionMsg {
	clear(spare)
	q.mu.Lock()
	out := q.items
	q.items = spare[:0]
	q.mu.Unlock()
	return out
}

// putBack returns the unhandled rest of a batch to the front of the queue.
func (q *orderQueue) putBack(rest []decisionMsg) {
	q.mu.Lock()
	q.items = append(slices.Clone(rest), q.items...)
	q.mu.Unlock()
}

// decisionMsg is a message with its decision, decoded once; nil when it
// does not decode.
type decisionMsg struct {
	msg      jetstream.Msg
	d        *wire.Decision
	unmapped bool // consumed from DECISIONS itself while it is partitioned
}

// worker is the index of the worker for m's order, and m's decision when
// it decodes; one that does not goes to worker 0, whose handler
// dead-letters it.
func (c *Consumer) worker(m jetstream.Msg) (int, *wire.Decision) {
	d, err := wire.DecodeDecision(m.Data())
	if err != nil {
		return 0, nil
	}
	return int(orderHash(d.Store, d.OrderID) % uint32(len(c.queues))), &d
}

// orderHash spreads orders over workers and connections: FNV-1a of
// {store}/{order}.
func orderHash(store, order string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(store))
	h.Write([]byte{'/'})
	h.Write([]byte(order))
	return h.Sum32()
}

// supervise recreates a lost consumer, retrying every second.
func (c *Consumer) supervise(ctx context.Context) {
	for {
		var stream string
		select {
		case <-ctx.Done():
			return
		case stream = <-c.lost:
		}
		for {
			err := c.consume(ctx, stream)
			if err == nil {
				c.Log.Info("consumer recreated", "durable", c.Durable, "stream", stream)
				break
			}
			c.Log.Warn("recreate consumer; retrying", "stream", stream, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
}

func (c *Consumer) stopAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true // consume starts no new pull
	for _, cc := range c.ccs {
		cc.Stop()
	}
}

// Close stops pulling, lets the workers finish the message in hand, waits
// (up to AckWait) for the decisions in flight to settle, and NAKs messages
// fetched but not yet handled, so another replica gets them at once
// instead of after AckWait.
func (c *Consumer) Close() {
	c.stopAll()
	if c.cancel != nil {
		c.cancel()
	}
	c.wg.Wait()
	settled := make(chan struct{})
	go func() {
		c.settling.Wait()
		close(settled)
	}()
	select {
	case <-settled:
	case <-time.After(c.AckWait):
	}
	for _, q := range c.queues {
		for _, j := range q.take(nil) {
			_ = j.msg.Nak()
		}
	}
}

// work handles q's decisions in order until ctx ends; what it has not
// begun then stays queued for Close to NAK.
func (c *Consumer) work(ctx context.Context, q *orderQueue, h Handler) {
	var batch []decisionMsg
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.ready:
		}
		batch = q.take(batch)
		for i, j := range batch {
			if ctx.Err() != nil {
				q.putBack(batch[i:])
				return
			}
			c.handle(ctx, h, j)
		}
	}
}

// handle hands m to h; the outcome settles m when h reports it.
func (c *Consumer) handle(ctx context.Context, h Handler, j decisionMsg) {
	m, d := j.msg, j.d
	meta, err := m.Metadata()
	if err != nil {
		c.Log.Error("message without metadata", "err", err)
		c.ack(m, "term")
		<-c.inflight
		return
	}
	if j.unmapped {
		c.warnUnmapped(m)
	}
	c.settling.Add(1)
	released := strings.HasPrefix(m.Headers().Get(wire.HeaderMsgID), releasedMsgID)
	h(ctx, relay.Delivery{Raw: m.Data(), Decision: d, Attempt: int(meta.NumDelivered), StoredAt: meta.Timestamp, Released: released,
		Traceparent: m.Headers().Get(wire.HeaderTraceparent)}, func(out relay.Outcome) {
		defer c.settling.Done()
		defer func() { <-c.inflight }()
		c.settle(ctx, m, meta, out)
	})
}

// warnUnmapped counts and (once a minute) warns about a decision that the
// servers did not map onto its partition: with partitions, DECISIONS itself
// holds only those. Telling them by the stream they came from costs nothing
// per decision (parsing every subject cost an allocation each).
func (c *Consumer) warnUnmapped(m jetstream.Msg) {
	c.Metrics.unmapped.Inc()
	now := time.Now().Unix()
	if last := c.warned.Load(); now-last >= 60 && c.warned.CompareAndSwap(last, now) {
		c.Log.Warn("a decision arrived unpartitioned on "+wire.StreamDecisions+": a NATS server lacks the subject mapping (README, Partitions)",
			"subject", m.Subject(), "partitions", c.Partitions)
	}
}

// settle acks, NAKs or dead-letters m. It may run on a channel's ack
// goroutine: the dead-letter publish, which waits, runs on its own.
func (c *Consumer) settle(ctx context.Context, m jetstream.Msg, meta *jetstream.MsgMetadata, out relay.Outcome) {
	if ctx.Err() != nil && out.Action == relay.Retry {
		return // shutting down: leave it for redelivery
	}
	switch out.Action {
	case relay.Ack:
		c.ack(m, "ack")
	case relay.Dead:
		c.deadLetterAsync(m, meta, out.Result+": "+errText(out.Err))
	case relay.Retry:
		if int(meta.NumDelivered) >= c.MaxDeliver {
			c.deadLetterAsync(m, meta, fmt.Sprintf("gave up after %d deliveries: %s", meta.NumDelivered, errText(out.Err)))
			return
		}
		c.Log.Warn("decision delivery failed; will retry", "seq", meta.Sequence.Stream, "delivery", meta.NumDelivered, "err", out.Err)
		_ = m.NakWithDelay(c.backoff(int(meta.NumDelivered)))
		c.Metrics.acks.WithLabelValues("nak").Inc()
	}
}

func (c *Consumer) deadLetterAsync(m jetstream.Msg, meta *jetstream.MsgMetadata, reason string) {
	c.settling.Add(1)
	go func() {
		defer c.settling.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.deadLetter(ctx, m, meta, reason)
	}()
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
	store, err := wire.DecisionStore(m.Subject())
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
	unmapped prometheus.Counter
	acks     *prometheus.CounterVec
	dead     prometheus.Counter
	dlqDepth prometheus.Gauge
}

// NewConsumerMetrics creates the collectors and registers them with reg.
func NewConsumerMetrics(reg prometheus.Registerer) *ConsumerMetrics {
	m := &ConsumerMetrics{
		unmapped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "passline_relay_unmapped_decisions_total", Help: "Decisions that arrived on DECISIONS although it is partitioned: a server lacks the subject mapping.",
		}),
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
	reg.MustRegister(m.unmapped, m.acks, m.dead, m.dlqDepth)
	return m
}
