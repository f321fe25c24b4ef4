package app

import (
	"context"
	"fmt"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/breaker"
	"github.com/passline/passline/cloud/egress"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/phrase"
	"github.com/passline/passline/cloud/quota"
	"github.com/passline/passline/cloud/relay"
	"github.com/passline/passline/cloud/sms"
	"github.com/passline/passline/cloud/webhook"
	"github.com/passline/passline/wire"
)

// startLimits builds the per-merchant tier limiter and the phraser from
// config unless the caller set Gate or Phraser.
func (m *Main) startLimits(breakers *breaker.Collector) error {
	if m.Gate == nil {
		lc := m.Config.Limits
		lc.ETAInterval = 0 // enforced cluster-wide through PASSLINE_ETA instead
		lim, err := quota.New(lc, nil)
		if err != nil {
			return fmt.Errorf("limits: %w", err)
		}
		m.Gate = quotaGate{lim}
	}
	if m.Phraser == nil && m.Config.Phrase.Enabled {
		p, err := phrase.NewModel(m.Config.Phrase, m.Registry, phrase.Options{})
		if err != nil {
			return fmt.Errorf("phrase: %w", err)
		}
		breakers.Add("phrase", p.Breaker())
		m.Phraser = p
	}
	return nil
}

// quotaGate adapts quota.Limiter to relay.Gate.
type quotaGate struct{ l *quota.Limiter }

var _ relay.Gate = quotaGate{}

func (g quotaGate) Allow(_ context.Context, merchant string, d wire.Decision) (bool, error) {
	ok, _ := g.l.Allow(merchant, d.Store, d.OrderID, d.Kind)
	return ok, nil
}

// addonChannels builds the webhook and SMS channels the config asks for
// and exports their breakers' states.
func (m *Main) addonChannels(b *natsjs.Buckets, breakers *breaker.Collector) ([]cloud.Channel, error) {
	var out []cloud.Channel
	guard, err := egress.New(m.Config.Egress)
	if err != nil {
		return nil, fmt.Errorf("egress: %w", err)
	}
	hooks, err := webhook.NewAll(m.Config.Webhook, webhook.Options{Guard: guard})
	if err != nil {
		return nil, fmt.Errorf("webhook: %w", err)
	}
	for _, h := range hooks {
		breakers.Add("webhook", h.Breaker())
		out = append(out, h)
	}
	if m.Config.SMS.URL != "" {
		ch, err := sms.New(m.Config.SMS, natsjs.RiderPhones{KV: b.Riders}.Phone, sms.Options{})
		if err != nil {
			return nil, fmt.Errorf("sms: %w", err)
		}
		breakers.Add("sms", ch.Breaker())
		out = append(out, ch)
	}
	return out, nil
}
