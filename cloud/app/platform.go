package app

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/breaker"
	"github.com/passline/passline/cloud/egress"
	"github.com/passline/passline/cloud/httpapi"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/cloud/sms"
	"github.com/passline/passline/cloud/webhook"
	"github.com/passline/passline/wire"
)

// platforms is the running platform gateway: its stores and one webhook
// receiver per platform.
type platforms struct {
	creds     natsjs.PlatformCredentials
	orders    natsjs.PlatformOrders
	receivers map[string]*platform.Receiver
}

// startPlatforms builds a channel and a webhook receiver per configured
// platform when platform.seal_key is set. The channels dial through the
// egress guard: a credential's base or token URL on a private address is
// refused unless egress.allow lists it.
func (m *Main) startPlatforms(ctx context.Context, breakers *breaker.Collector) ([]cloud.Channel, error) {
	c := m.Config.Platform
	if !c.Enabled() {
		return nil, nil
	}
	sealer, err := platform.NewSealer(c.SealKey)
	if err != nil {
		return nil, fmt.Errorf("platform.seal_key: %w", err)
	}
	b, err := untilReady(ctx, m.Logger, "platform buckets", func(ctx context.Context) (*natsjs.PlatformBuckets, error) {
		return natsjs.SetupPlatform(ctx, m.js, m.Config.Stream.Replicas)
	})
	if err != nil {
		return nil, err
	}
	guard, err := egress.New(m.Config.Egress)
	if err != nil {
		return nil, fmt.Errorf("egress: %w", err)
	}
	client := guard.Client()
	p := &platforms{creds: natsjs.PlatformCredentials{KV: b.Creds, Sealer: sealer}, orders: natsjs.PlatformOrders{KV: b.Orders},
		receivers: map[string]*platform.Receiver{}}
	log := m.Logger.WithGroup("platform")
	metrics := platform.NewReceiverMetrics(m.Registry)
	var out []cloud.Channel
	for _, name := range c.Names() {
		conn, err := platform.NewConnector(name)
		if err != nil {
			return nil, err
		}
		out = append(out, &platform.Channel{
			Adapter: conn, Orders: p.orders, Credentials: p.creds, Dead: natsjs.PlatformDeadLetters{JS: m.js},
			Client: client, Timeout: c.Timeout, Retry: c.Retry, Breaker: c.Breaker, Log: log,
			OnBreaker: func(b *breaker.Breaker) { breakers.Add("platform", b) },
		})
		p.receivers[name] = &platform.Receiver{
			Inbound: conn, Credentials: p.creds, Orders: p.orders, Seen: natsjs.PlatformSeen{KV: b.Seen},
			Assign: func(ctx context.Context, a wire.Assignment) error { return m.relay.Assign(ctx, a) }, Client: client, Metrics: metrics, Log: log,
		}
	}
	if c.Customer != "" {
		via, err := m.customerVia(c.Customer, client)
		if err != nil {
			return nil, err
		}
		breakers.Add("customer", via.Breaker())
		out = append(out, &platform.CustomerChannel{Orders: p.orders, Caps: natsjs.PlatformCaps{KV: b.Seen}, Via: via, Log: log})
	}
	m.platforms = p
	return out, nil
}

// customerVia is the channel customer messages go out on: the sms
// gateway to the customer's phone, or a configured webhook endpoint.
func (m *Main) customerVia(via string, client *http.Client) (interface {
	cloud.Channel
	Breaker() *breaker.Breaker
}, error) {
	if via == "sms" {
		cfg := m.Config.SMS
		cfg.Kinds = nil // sms.kinds is the riders' choice; customers get ready_soon and delayed
		ch, err := sms.New(cfg, platform.CustomerPhone, sms.Options{})
		if err != nil {
			return nil, fmt.Errorf("platform.customer: %w", err)
		}
		return ch, nil
	}
	name := strings.TrimPrefix(via, "webhook:")
	for _, ep := range m.Config.Webhook.Endpoints {
		if ep.Name == name {
			return webhook.New(m.Config.Webhook, ep, webhook.Options{Client: client})
		}
	}
	return nil, fmt.Errorf("platform.customer: no webhook endpoint named %q", name)
}

// withPlatformWebhooks serves every platform's webhooks at
// POST /v1/platforms/{platform}/webhooks/{store}, and below it (Open
// Delivery appends /v1/newEvent and /v1/newLogisticEvent to the URL it is
// given; Meituan takes one URL per push type), in front of next. They
// carry no bearer token: each request is authenticated by the platform's
// own signature with the store's credentials.
func (m *Main) withPlatformWebhooks(next http.Handler) http.Handler {
	if m.platforms == nil {
		return next
	}
	mux := http.NewServeMux()
	for name, rc := range m.platforms.receivers {
		mux.Handle("POST /v1/platforms/"+name+"/webhooks/{store}", rc)
		mux.Handle("POST /v1/platforms/"+name+"/webhooks/{store}/{rest...}", rc)
	}
	mux.Handle("/", next)
	return mux
}

// platformRoutes are the credential routes for SecureHTTP, or zero ones
// when the gateway is off.
func (m *Main) platformRoutes(rt *httpapi.Routes) {
	if m.platforms == nil {
		return
	}
	pr := httpapi.PlatformRoutes{Store: m.platforms.creds, Log: m.Logger.WithGroup("api")}
	rt.PlatformPut, rt.PlatformDelete, rt.PlatformList = pr.Put(), pr.Delete(), pr.List()
}
