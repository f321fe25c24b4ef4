package platform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"text/template"
	"time"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/wire"
)

// Caps enforces the per-order customer message cap.
type Caps interface {
	// Claim records that decision id used key and reports whether it may
	// go out: true for the first claim and for the same id again (a
	// redelivery), false for another id.
	Claim(ctx context.Context, key, id string) (bool, error)
}

// CustomerKinds are the decisions a customer hears about.
var CustomerKinds = []wire.DecisionKind{wire.KindReadySoon, wire.KindDelayed}

// CustomerTemplates are the customer's own texts, by locale and kind; the
// slots are .ShortCode, .StoreName and .Minutes (0 when unknown).
var CustomerTemplates = map[string]map[wire.DecisionKind]string{
	"en": {
		wire.KindReadySoon: `Your order {{.ShortCode}} from {{.StoreName}} will be ready in about {{.Minutes}} min.`,
		wire.KindDelayed:   `Your order {{.ShortCode}} from {{.StoreName}} is running late: now about {{.Minutes}} min.`,
	},
	"zh-CN": {
		wire.KindReadySoon: `您在{{.StoreName}}的订单{{.ShortCode}}约{{.Minutes}}分钟后出餐。`,
		wire.KindDelayed:   `抱歉，您在{{.StoreName}}的订单{{.ShortCode}}出餐延迟，预计还需约{{.Minutes}}分钟。`,
	},
}

var customerTemplates = func() map[string]*template.Template {
	out := map[string]*template.Template{}
	for locale, kinds := range CustomerTemplates {
		for kind, src := range kinds {
			out[locale+"/"+string(kind)] = template.Must(template.New(locale + "/" + string(kind)).Option("missingkey=error").Parse(src))
		}
	}
	return out
}()

// CustomerText renders the customer's text of kind in locale (English
// when the locale has no template).
func CustomerText(kind wire.DecisionKind, locale, shortCode, storeName string, minutes int) (string, error) {
	t, ok := customerTemplates[locale+"/"+string(kind)]
	if !ok {
		t, ok = customerTemplates["en/"+string(kind)]
	}
	if !ok {
		return "", fmt.Errorf("no customer template for %s", kind)
	}
	var b strings.Builder
	err := t.Execute(&b, struct {
		ShortCode, StoreName string
		Minutes              int
	}{shortCode, storeName, minutes})
	return b.String(), err
}

type phoneKey struct{}

// CustomerPhone is an sms.PhoneLookup for the customer channel's SMS: the
// phone CustomerChannel put in ctx.
func CustomerPhone(ctx context.Context, _ string) (string, error) {
	p, _ := ctx.Value(phoneKey{}).(string)
	return p, nil
}

// CustomerChannel tells a platform order's customer that it will be ready
// soon or is running late: at most once per order and kind, in the
// customer's locale, with the customer's own templates. None of the
// supported platforms documents an API to message its customer, so the
// message goes through Via: an SMS channel built with CustomerPhone as its
// phone lookup (to the order's customer phone), or a webhook channel (the
// merchant's endpoint, which receives the rendered customer notification
// with rider "customer"). Orders that are not platform orders are skipped.
type CustomerChannel struct {
	Orders Orders
	Caps   Caps
	Via    cloud.Channel
	Now    func() time.Time
	Log    *slog.Logger
}

// Name is "customer".
func (c *CustomerChannel) Name() string { return "customer" }

// NeedsRider is false: the customer hears of the order whether or not a
// rider is assigned yet (relay.RiderlessChannel).
func (c *CustomerChannel) NeedsRider() bool { return false }

// Deliver sends n's customer text when n is a ready_soon or delayed of a
// platform order whose cap is not used; for an order no platform has
// linked yet and no rider, cloud.ErrNotYet.
func (c *CustomerChannel) Deliver(ctx context.Context, n wire.Notification) error {
	if n.Kind != wire.KindReadySoon && n.Kind != wire.KindDelayed {
		return nil
	}
	if n.ETA == nil {
		return nil // a delayed without a time (a recalled ready): nothing to tell the customer
	}
	o, ok, err := c.Orders.Get(ctx, n.Store, n.OrderID)
	if err != nil {
		return fmt.Errorf("customer: read order %s/%s: %w", n.Store, n.OrderID, err)
	}
	if !ok || o.PlatformID == "" {
		return notLinked(n) // not a platform order (yet)
	}
	if o.Status == "cancelled" || o.Status == "picked_up" {
		return nil
	}
	locale := firstNonEmpty(o.Locale, n.Locale, "en")
	now := time.Now()
	if c.Now != nil {
		now = c.Now()
	}
	minutes := max(int(math.Ceil(n.ETA.Sub(now).Minutes())), 1)
	text, err := CustomerText(n.Kind, locale, firstNonEmpty(n.ShortCode, n.OrderID), firstNonEmpty(n.StoreName, n.Store), minutes)
	if err != nil {
		return fmt.Errorf("customer: %w: %w", err, cloud.ErrPermanent)
	}
	sum := sha256.Sum256([]byte(n.OrderID))
	ok, err = c.Caps.Claim(ctx, "customer."+n.Store+"."+hex.EncodeToString(sum[:12])+"."+string(n.Kind), n.ID)
	if err != nil {
		return fmt.Errorf("customer: cap: %w", err)
	}
	if !ok {
		return nil // the order's customer heard this kind already
	}
	cn := n
	cn.Rider, cn.Text, cn.Locale = "customer", text, locale
	if err := c.Via.Deliver(context.WithValue(ctx, phoneKey{}, o.CustomerPhone), cn); err != nil {
		if errors.Is(err, cloud.ErrPermanent) && c.Log != nil {
			c.Log.Warn("customer message refused", "decision_id", n.ID, "store", n.Store, "err", err)
		}
		return fmt.Errorf("customer: %w", err)
	}
	return nil
}
