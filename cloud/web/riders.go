package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/passline/passline/internal/sse"
	"github.com/passline/passline/wire"
)

// RiderFeed delivers one rider's notifications as they are sent. Subscribe
// hands each to fn, which must not block; stop ends the subscription.
type RiderFeed interface {
	Subscribe(rider string, fn func(wire.Notification)) (stop func(), err error)
}

// NATSRiders is a RiderFeed on the rider's NATS subject
// (wire.RiderFilter), where the relay's rider channel delivers. It sees
// only notifications sent while the page is open; a payload that does not
// decode is skipped.
type NATSRiders struct{ NC *nats.Conn }

var _ RiderFeed = NATSRiders{}

// Subscribe implements RiderFeed.
func (f NATSRiders) Subscribe(rider string, fn func(wire.Notification)) (func(), error) {
	sub, err := f.NC.Subscribe(wire.RiderFilter(rider), func(m *nats.Msg) {
		if n, err := wire.DecodeNotification(m.Data); err == nil {
			if n.Traceparent == "" {
				n.Traceparent = m.Header.Get(wire.HeaderTraceparent)
			}
			fn(n)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", wire.RiderFilter(rider), err)
	}
	_ = f.NC.Flush() // the server has the subscription before the page says "live"
	return func() { _ = sub.Unsubscribe() }, nil
}

// riderEvents streams the rider's notifications, one event each. A client
// too slow to read loses notifications (counted in a "dropped" event)
// rather than holding up the NATS connection.
func (h *Handler) riderEvents(w http.ResponseWriter, r *http.Request) {
	rider := r.PathValue("rider")
	if h.Riders == nil { // the rider id was checked by validRider
		http.Error(w, "no such rider feed", http.StatusNotFound)
		return
	}
	ch := make(chan wire.Notification, 64)
	dropped := 0
	drops := make(chan int, 1)
	stop, err := h.Riders.Subscribe(rider, func(n wire.Notification) {
		select {
		case ch <- n:
		default:
			dropped++ // only the subscription's goroutine touches dropped
			select {
			case drops <- dropped:
			default:
			}
		}
	})
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	defer stop()
	rc, _ := sse.Start(w) // a client gone shows at the next flush
	keep := time.NewTicker(or(h.KeepAlive, 15*time.Second))
	defer keep.Stop()
	fmt.Fprintf(w, "event: hello\ndata: %q\n\n", rider)
	_ = rc.Flush()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case <-h.done:
			return
		case n := <-ch:
			b, _ := json.Marshal(n)
			_, err = fmt.Fprintf(w, "id: %s\nevent: notification\ndata: %s\n\n", n.ID, b)
		case d := <-drops:
			_, err = fmt.Fprintf(w, "event: dropped\ndata: %d\n\n", d)
		case <-keep.C:
			_, err = fmt.Fprint(w, ": keep-alive\n\n")
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}
