// Package tail prints rider notifications as they go out, one human-readable
// line each: what `passline-cloud tail` shows scrolling in the demo.
package tail

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/passline/passline/wire"
)

// Format renders one notification as a line: local time, rider, store,
// order short code, kind, text, and "(sent again: not acked)" for the one
// re-send of a ready its rider did not acknowledge.
func Format(n wire.Notification) string {
	code := n.ShortCode
	if code == "" {
		code = n.OrderID
		if len(code) > 8 {
			code = "…" + code[len(code)-7:]
		}
	}
	at := n.SentAt
	if at.IsZero() {
		at = time.Now()
	}
	line := fmt.Sprintf("%s  %-10s %-12s %-8s %-10s %s", at.Local().Format("15:04:05"), n.Rider, n.Store, code, n.Kind, n.Text)
	if n.Resent {
		line += "  (sent again: not acked)"
	}
	return line
}

// FormatMsg formats a received message; a payload that is not a valid
// notification is shown as such, never dropped silently.
func FormatMsg(subject string, data []byte) string {
	n, err := wire.DecodeNotification(data)
	if err != nil {
		return fmt.Sprintf("%s  %s: unreadable notification: %v", time.Now().Format("15:04:05"), subject, err)
	}
	return Format(n)
}

// Run subscribes to rider (or every rider when rider is "") at url and
// writes a line per notification to w until ctx ends.
func Run(ctx context.Context, url, rider string, w io.Writer) error {
	subject := wire.RiderWildcard
	if rider != "" {
		if !wire.ValidToken(rider) {
			return fmt.Errorf("rider %q is not a valid id", rider)
		}
		subject = wire.RiderFilter(rider)
	}
	nc, err := nats.Connect(url, nats.Name("passline-cloud-tail"), nats.MaxReconnects(-1), nats.RetryOnFailedConnect(true))
	if err != nil {
		return fmt.Errorf("connect nats %s: %w", url, err)
	}
	defer nc.Close()
	ch := make(chan *nats.Msg, 1024)
	sub, err := nc.ChanSubscribe(subject, ch)
	if err != nil {
		return fmt.Errorf("subscribe %s: %w", subject, err)
	}
	defer sub.Unsubscribe()
	fmt.Fprintf(w, "tailing %s on %s (Ctrl-C to stop)\n", subject, url)
	for {
		select {
		case <-ctx.Done():
			return nil
		case m := <-ch:
			fmt.Fprintln(w, FormatMsg(m.Subject, m.Data))
		}
	}
}
