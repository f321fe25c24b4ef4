package kpi

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/wire"
)

// Store keeps Facts and Hours. Both updates are compare-and-set: fn runs
// on the current record (the zero one when missing) and may run more than
// once; it returns false to leave the record as it is.
type Store interface {
	UpdateFacts(ctx context.Context, store, order string, fn func(*Facts) bool) (Facts, error)
	UpdateHour(ctx context.Context, store string, hour time.Time, fn func(*Hour) bool) error
	// Hours returns the store's hour records of [from, to).
	Hours(ctx context.Context, store string, from, to time.Time) ([]Hour, error)
}

// Recorder turns decisions and platform order records into Facts and
// hourly contributions. Each call converges: it always rewrites the
// order's contribution from its Facts and clears stale hours, so a call
// repeated after a crash between two writes completes what the first one
// started, and a repeated input changes nothing.
type Recorder struct {
	Store Store
}

// Decision records one decision.
func (r *Recorder) Decision(ctx context.Context, d wire.Decision) error {
	return r.record(ctx, d.Store, d.OrderID, func(f *Facts) bool { return f.ApplyDecision(d) })
}

// Platform records a platform order record (rider arrival and pickup).
func (r *Recorder) Platform(ctx context.Context, o platform.Order) error {
	if o.Store == "" || o.OrderID == "" {
		return nil
	}
	return r.record(ctx, o.Store, o.OrderID, func(f *Facts) bool { return f.ApplyPlatform(o) })
}

func (r *Recorder) record(ctx context.Context, store, order string, apply func(*Facts) bool) error {
	f, err := r.Store.UpdateFacts(ctx, store, order, func(f *Facts) bool {
		changed := apply(f)
		hour := f.HourOf()
		if !hour.Equal(f.Hour) {
			if !f.Hour.IsZero() && !slices.ContainsFunc(f.Stale, f.Hour.Equal) {
				f.Stale = append(f.Stale, f.Hour)
			}
			f.Hour, changed = hour, true
		}
		return changed
	})
	if err != nil {
		return fmt.Errorf("kpi facts %s/%s: %w", store, order, err)
	}
	if f.Hour.IsZero() {
		return nil // nothing dates the order yet
	}
	c := f.Contribution()
	if err := r.Store.UpdateHour(ctx, store, f.Hour, func(h *Hour) bool {
		if old, ok := h.Orders[order]; ok && reflect.DeepEqual(old, c) {
			return false
		}
		if h.Orders == nil {
			h.Orders = map[string]Contribution{}
		}
		h.Store, h.Start, h.Orders[order] = store, f.Hour, c
		return true
	}); err != nil {
		return fmt.Errorf("kpi hour %s %s: %w", store, f.Hour.Format(time.RFC3339), err)
	}
	if len(f.Stale) == 0 {
		return nil
	}
	for _, old := range f.Stale {
		if err := r.Store.UpdateHour(ctx, store, old, func(h *Hour) bool {
			_, ok := h.Orders[order]
			delete(h.Orders, order)
			return ok
		}); err != nil {
			return fmt.Errorf("kpi stale hour %s %s: %w", store, old.Format(time.RFC3339), err)
		}
	}
	_, err = r.Store.UpdateFacts(ctx, store, order, func(g *Facts) bool {
		n := len(g.Stale)
		g.Stale = slices.DeleteFunc(g.Stale, func(t time.Time) bool { return slices.ContainsFunc(f.Stale, t.Equal) })
		return len(g.Stale) != n
	})
	return err
}

// Range returns one store's KPIs over [from, to): the whole span and each
// hour.
func (r *Recorder) Range(ctx context.Context, store string, from, to time.Time) (KPIs, []KPIs, error) {
	hours, err := r.Store.Hours(ctx, store, from, to)
	if err != nil {
		return KPIs{}, nil, err
	}
	return Summarize(store, from, to, hours), PerHour(store, from, to, hours), nil
}
