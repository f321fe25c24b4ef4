package phrase

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/breaker"
)

// fallbackError says why generate produced no text; reason is a fallbacks
// label.
type fallbackError struct{ reason string }

func (e *fallbackError) Error() string { return "phrase fallback: " + e.reason }

// generate asks the model once for f's situation and returns the verified
// text with its slot values masked, ready for the cache and for every
// caller sharing the flight.
func (p *Phraser) generate(ctx context.Context, key string, f cloud.Facts, fallback string) (string, error) {
	now := p.now()
	done, err := p.br.Allow()
	if err != nil {
		return "", &fallbackError{fallbackBreaker}
	}
	if !p.budget.take(merchantOf(ctx, f), now) {
		done(breaker.Ignored)
		return "", &fallbackError{fallbackBudget}
	}
	text, err := p.call(ctx, f, fallback, done)
	if err != nil {
		return "", &fallbackError{fallbackCall}
	}
	text = strings.Trim(strings.TrimSpace(text), `"“”'「」`)
	masked, err := mask(f, text, p.limits)
	if err != nil {
		var ve *VerifyError
		if errors.As(err, &ve) {
			p.m.verify.WithLabelValues(string(ve.Reason)).Inc()
		}
		return "", &fallbackError{fallbackVerify}
	}
	p.cache.put(key, masked, now)
	return masked, nil
}

// call makes one model call bounded by the budget and reports its outcome
// to the breaker and the metrics.
func (p *Phraser) call(ctx context.Context, f cloud.Facts, fallback string, done func(breaker.Outcome)) (string, error) {
	parent := ctx
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Budget)
	defer cancel()
	start := time.Now()
	text, err := p.complete(ctx, f, fallback)
	p.m.latency.Observe(time.Since(start).Seconds())
	var ce *callError
	switch {
	case err == nil:
		done(breaker.Success)
		p.m.calls.WithLabelValues(outcomeOK).Inc()
	case errors.Is(parent.Err(), context.Canceled):
		done(breaker.Ignored)
		p.m.calls.WithLabelValues(outcomeTimeout).Inc()
	case errors.As(err, &ce):
		done(breaker.Failure)
		p.m.calls.WithLabelValues(ce.outcome).Inc()
	default:
		done(breaker.Failure)
		p.m.calls.WithLabelValues(outcomeTransport).Inc()
	}
	return text, err
}
