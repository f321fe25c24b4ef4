// Package mqtt is the bridge's MQTT client (paho): it publishes device
// events at QoS 1 on their wire topics, keeps the bridge's online status
// retained with a last will that flips it to offline when the connection
// dies, and delivers commands (GPIO outputs) to handlers.
//
// Events published while the broker is unreachable wait in paho's
// in-memory store and are sent on reconnect; they are lost if the bridge
// stops first. The bridge is a sensor, not a ledger: the agent's bbolt
// outbox is what must survive.
package mqtt

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	bridge "github.com/passline/passline/firmware-bridge"
	"github.com/passline/passline/internal/tracing"
	"github.com/passline/passline/wire"
)

// Options configure a Client.
type Options struct {
	URL, Username, Password string
	ClientID                string // stable: {store}-bridge
	Store                   string // the bridge's store
	DeviceID                string // the bridge's id in its status topic
	KeepAlive               time.Duration
	ConnectTimeout          time.Duration
	PublishTimeout          time.Duration
	// TLS, when set, is used for a tls://, ssl:// or wss:// URL.
	TLS *tls.Config
	// MaxBacklog bounds the events queued in memory during one broker
	// outage; beyond it events are dropped (and counted). 0 means 10,000.
	MaxBacklog int
	// WillRefresh is how often the connection is renewed to restamp the
	// last will; 0 means daily.
	WillRefresh time.Duration
	// MaxReconnectInterval caps the wait between reconnect attempts; 0
	// means 30 s.
	MaxReconnectInterval time.Duration
	// StallAfter is how long the link may be down with no connection
	// attempt begun before Alive reports the client stalled; 0 means twice
	// MaxReconnectInterval plus ConnectTimeout, which paho's retrying
	// never exceeds.
	StallAfter time.Duration
	Logger     *slog.Logger
	// Tracer starts each device event's trace (span bridge.publish, ended
	// at the broker's ack); nil means tracing.Off's.
	Tracer trace.Tracer
}

// Handler receives a command. It runs on paho's delivery goroutine: it must
// return quickly and never publish and wait.
type Handler func(topic string, payload []byte)

var _ bridge.Publisher = (*Client)(nil)

// Client publishes events and receives commands. Build it with New, then
// Connect; it is safe for concurrent use.
type Client struct {
	opts   Options
	log    *slog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup

	cmu    sync.RWMutex // guards client, swapped by refresh
	client paho.Client

	mu   sync.Mutex
	subs map[string]Handler

	published, failed, queued, dropped atomic.Int64
	backlog                            atomic.Int64 // queued in the current outage
	online                             atomic.Bool
	lastSign                           atomic.Int64 // unix ns: link seen up, lost, or a connection attempt begun
}

// New returns an unconnected client.
func New(opts Options) *Client {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	if opts.Tracer == nil {
		opts.Tracer = tracing.Off().Tracer(tracerName)
	}
	return &Client{opts: opts, log: log.With("component", "mqtt"), subs: map[string]Handler{}}
}

// StatusTopic is where the bridge's own online status is kept (retained).
func (c *Client) StatusTopic() string {
	return wire.StatusTopic(c.opts.Store, wire.DeviceBridge, c.opts.DeviceID)
}

// Connect starts connecting and waits up to ConnectTimeout for the first
// connection. When the broker is not there yet it returns nil anyway:
// paho keeps retrying in the background and events wait in its store.
// It also starts the last-will refresh, which runs until Close.
func (c *Client) Connect(ctx context.Context) error {
	c.sign()
	cl, err := c.newPaho()
	if err != nil {
		return err
	}
	c.cmu.Lock()
	c.client = cl
	c.cmu.Unlock()
	if err := c.connect(ctx, cl); err != nil {
		cl.Disconnect(0)
		return err
	}
	refresh := c.opts.WillRefresh
	if refresh <= 0 {
		refresh = 24 * time.Hour
	}
	var bg context.Context
	bg, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
	c.wg.Add(1)
	go c.refreshLoop(bg, refresh)
	return nil
}

// newPaho builds a paho client whose last will is an offline status
// stamped now.
func (c *Client) newPaho() (paho.Client, error) {
	will, err := c.status(false, "connection lost").Marshal()
	if err != nil {
		return nil, fmt.Errorf("build last will: %w", err)
	}
	o := paho.NewClientOptions().
		AddBroker(c.opts.URL).
		SetClientID(c.opts.ClientID).
		SetUsername(c.opts.Username).
		SetPassword(c.opts.Password).
		SetCleanSession(false).
		SetKeepAlive(c.opts.KeepAlive).
		SetConnectTimeout(c.opts.ConnectTimeout).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetAutoReconnect(true).
		SetMaxReconnectInterval(c.maxReconnect()).
		SetOrderMatters(false).
		SetBinaryWill(c.StatusTopic(), will, 1, true).
		SetDefaultPublishHandler(c.deliver).
		SetOnConnectHandler(c.onConnect).
		SetTLSConfig(c.opts.TLS).
		SetConnectionAttemptHandler(func(_ *url.URL, tc *tls.Config) *tls.Config { c.sign(); return tc }).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			c.sign()
			c.online.Store(false)
			c.log.Warn("broker connection lost", "url", c.opts.URL, "err", err)
		})
	return paho.NewClient(o), nil
}

func (c *Client) connect(ctx context.Context, cl paho.Client) error {
	tok := cl.Connect()
	select {
	case <-tok.Done():
		if err := tok.Error(); err != nil {
			return fmt.Errorf("connect to %s: %w", c.opts.URL, err)
		}
		// paho runs onConnect on a goroutine of its own, which may not have
		// marked the link up yet: a publish right after Connect returned
		// would be taken for one with the broker away.
		c.online.Store(cl.IsConnectionOpen())
	case <-time.After(c.opts.ConnectTimeout):
		c.log.Warn("broker not reachable yet; retrying in the background", "url", c.opts.URL)
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// refreshLoop replaces the connection every period so the broker holds a
// recent last will: the agent refuses events older than wire.MaxEventAge,
// and a will stamped at a connect months ago would be refused.
func (c *Client) refreshLoop(ctx context.Context, period time.Duration) {
	defer c.wg.Done()
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.refresh(ctx); err != nil {
				c.log.Warn("last will refresh", "err", err)
			}
		}
	}
}

// refresh disconnects cleanly (so the broker drops the old will without
// publishing it) and connects again with a fresh will. Publishers wait
// meanwhile; what the old client could not deliver within a second of
// quiesce is lost, as on any disconnect.
func (c *Client) refresh(ctx context.Context) error {
	nc, err := c.newPaho()
	if err != nil {
		return err
	}
	c.cmu.Lock()
	defer c.cmu.Unlock()
	c.client.Disconnect(1000)
	c.client = nc
	return c.connect(ctx, nc)
}

// onConnect runs on every (re)connect, in its own goroutine: it marks the
// bridge online (retained) and restores the command subscriptions.
func (c *Client) onConnect(cl paho.Client) {
	c.backlog.Store(0) // paho sends what it stored on this connect
	c.online.Store(true)
	c.log.Info("connected to broker", "url", c.opts.URL, "client_id", c.opts.ClientID)
	// QoS 0: paho's resume (which runs right after this handler starts)
	// flips the Dup flag of stored QoS 1 packets while the writer sends
	// them, a data race; a QoS 0 packet is never stored. The connection is
	// up, and the status is retained, so nothing is lost in practice.
	if b, err := c.status(true, "").Marshal(); err == nil {
		cl.Publish(c.StatusTopic(), 0, true, b)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for topic := range c.subs {
		cl.Subscribe(topic, 1, c.deliver)
	}
}

func (c *Client) status(online bool, detail string) wire.Event {
	return bridge.StatusEvent(c.opts.Store, c.opts.DeviceID, online, detail, time.Now())
}

// maxReconnect is Options.MaxReconnectInterval or its default.
func (c *Client) maxReconnect() time.Duration {
	if c.opts.MaxReconnectInterval > 0 {
		return c.opts.MaxReconnectInterval
	}
	return 30 * time.Second
}

// sign records a sign of life of the broker link: seen up, lost, or a
// connection attempt begun.
func (c *Client) sign() { c.lastSign.Store(time.Now().UnixNano()) }

// Alive is nil while the broker link is up, or down with paho still
// trying: a connection attempt began (or the link was seen up) within
// StallAfter. An error means the client stopped trying, as when paho
// wedges on a lost connection, which only a restart cures; a broker that
// stays away while paho keeps retrying is not an error, so a restart never
// throws away the events queued meanwhile.
func (c *Client) Alive() error {
	if !c.cmu.TryRLock() {
		return nil // a last-will refresh is swapping the connection, within ConnectTimeout
	}
	cl := c.client
	c.cmu.RUnlock()
	if cl == nil {
		return errors.New("mqtt: not connected yet")
	}
	if cl.IsConnectionOpen() {
		c.sign()
		return nil
	}
	stall := c.opts.StallAfter
	if stall <= 0 {
		stall = 2 * (c.maxReconnect() + c.opts.ConnectTimeout)
	}
	if quiet := time.Since(time.Unix(0, c.lastSign.Load())); quiet > stall {
		return fmt.Errorf("mqtt: link to %s down and no connection attempt for %s (limit %s)", c.opts.URL, quiet.Round(time.Millisecond), stall)
	}
	return nil
}

// Connected reports whether the broker connection is up right now.
func (c *Client) Connected() bool { return c.online.Load() }

// Counts returns the events acked by the broker and those that failed or
// timed out (a timed-out event may still be delivered later).
func (c *Client) Counts() (published, failed int64) { return c.published.Load(), c.failed.Load() }

// OfflineCounts returns the events queued while the broker was away and
// those dropped because the backlog was full.
func (c *Client) OfflineCounts() (queued, dropped int64) { return c.queued.Load(), c.dropped.Load() }

// Publish sends ev at QoS 1 on its device topic; status events are
// retained. It waits up to PublishTimeout for the broker's ack while the
// connection is up; with the broker away it returns at once with an error
// wrapping bridge.ErrQueued (see MaxBacklog).
func (c *Client) Publish(dev wire.Device, ev wire.Event) (err error) {
	c.cmu.RLock()
	defer c.cmu.RUnlock()
	if c.client == nil {
		return errors.New("mqtt: publish before connect")
	}
	topic := wire.Topic{Store: ev.Store, Device: dev, DeviceID: ev.DeviceID, Event: ev.Kind}.String()
	if ev.Kind != wire.EventStatus && ev.Traceparent == "" { // a device event starts its order's trace
		ctx, span := c.opts.Tracer.Start(context.Background(), "bridge.publish", trace.WithSpanKind(trace.SpanKindProducer),
			trace.WithAttributes(attribute.String("messaging.destination.name", topic), attribute.String("passline.event_id", ev.ID),
				attribute.String("passline.order_id", ev.OrderID())))
		defer func() {
			if err != nil {
				span.SetStatus(codes.Error, err.Error())
			}
			span.End()
		}()
		ev.Traceparent, ev.TraceID = tracing.Traceparent(ctx), tracing.TraceID(ctx)
	}
	b, err := ev.Marshal()
	if err != nil {
		c.failed.Add(1)
		return fmt.Errorf("encode %s event: %w", ev.Kind, err)
	}
	c.log.Debug("publishing event", "topic", topic, "event_id", ev.ID, "order_id", ev.OrderID(), "trace_id", ev.TraceID)
	if !c.online.Load() {
		return c.queue(topic, ev, b)
	}
	tok := c.client.Publish(topic, 1, ev.Kind == wire.EventStatus, b)
	deadline := time.Now().Add(c.opts.PublishTimeout)
	for !tok.WaitTimeout(100 * time.Millisecond) {
		if !c.online.Load() { // the connection died under us: paho keeps it for the reconnect
			c.queued.Add(1)
			return fmt.Errorf("publish %s: %w", topic, bridge.ErrQueued)
		}
		if time.Now().After(deadline) {
			c.failed.Add(1)
			return fmt.Errorf("publish %s: no ack within %s (kept queued)", topic, c.opts.PublishTimeout)
		}
	}
	if err := tok.Error(); err != nil {
		c.failed.Add(1)
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	c.published.Add(1)
	return nil
}

// tracerName names the bridge's tracer (the instrumenting package).
const tracerName = "github.com/passline/passline/firmware-bridge/mqtt"

// queue hands an event to paho's store while the broker is away, without
// waiting for an ack that cannot come, up to MaxBacklog events per outage.
func (c *Client) queue(topic string, ev wire.Event, b []byte) error {
	if c.backlog.Add(1) > int64(c.maxBacklog()) {
		c.backlog.Add(-1)
		c.dropped.Add(1)
		return fmt.Errorf("publish %s: broker unreachable and %d events already queued: dropped", topic, c.maxBacklog())
	}
	c.client.Publish(topic, 1, ev.Kind == wire.EventStatus, b)
	c.queued.Add(1)
	return fmt.Errorf("publish %s: %w", topic, bridge.ErrQueued)
}

func (c *Client) maxBacklog() int {
	if c.opts.MaxBacklog > 0 {
		return c.opts.MaxBacklog
	}
	return 10000
}

// Subscribe routes commands on topic (may contain wildcards) to h, now and
// after every reconnect.
func (c *Client) Subscribe(topic string, h Handler) error {
	c.mu.Lock()
	c.subs[topic] = h
	c.mu.Unlock()
	c.cmu.RLock()
	defer c.cmu.RUnlock()
	if c.client == nil || !c.client.IsConnectionOpen() {
		return nil // onConnect subscribes
	}
	tok := c.client.Subscribe(topic, 1, c.deliver)
	if !tok.WaitTimeout(c.opts.PublishTimeout) {
		return fmt.Errorf("subscribe %s: no ack within %s (retried on reconnect)", topic, c.opts.PublishTimeout)
	}
	return tok.Error()
}

// deliver hands a message to the handler of the first matching subscription.
func (c *Client) deliver(_ paho.Client, m paho.Message) {
	c.mu.Lock()
	var h Handler
	for filter, fh := range c.subs {
		if match(filter, m.Topic()) {
			h = fh
			break
		}
	}
	c.mu.Unlock()
	if h == nil {
		c.log.Debug("message on an unexpected topic", "topic", m.Topic())
		return
	}
	h(m.Topic(), m.Payload())
}

// Close marks the bridge offline (retained, so the agent knows this was a
// clean stop) and disconnects.
func (c *Client) Close() error {
	if c.cancel != nil {
		c.cancel()
		c.wg.Wait()
	}
	c.cmu.Lock()
	defer c.cmu.Unlock()
	if c.client == nil {
		return nil
	}
	if c.client.IsConnectionOpen() {
		if b, err := c.status(false, "stopped").Marshal(); err == nil {
			c.client.Publish(c.StatusTopic(), 1, true, b).WaitTimeout(2 * time.Second)
		}
	}
	c.client.Disconnect(500)
	c.online.Store(false)
	return nil
}
