package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/internal/sse"
	"github.com/passline/passline/wire"
)

// RiderEvents serves GET /v1/riders/{rider}/events: a Server-Sent Events
// stream of the rider's notifications read from JetStream. Each event's id
// is the notification's stream sequence; a client reconnecting with
// Last-Event-ID N gets every notification after N that the stream still
// holds, then live ones. Without Last-Event-ID it gets only new ones.
// Mount it behind Auth.RequireStream and RequireRider("rider").
//
// Each open stream holds one ordered JetStream consumer, removed when the
// client goes. Disable the server's WriteTimeout for this route or the
// stream is cut; the handler clears the write deadline itself where the
// server supports it.
type RiderEvents struct {
	JS jetstream.JetStream
	// Source, when set, names the stream that keeps rider's
	// notifications and the subject filter that selects them there (the
	// rider outbox, natsjs.RiderLog). When nil, Stream and
	// wire.RiderFilter(rider).
	Source func(rider string) (stream, filter string)
	// Stream holds the rider subjects; found by subject when empty.
	Stream string
	// Heartbeat is how often a comment line keeps proxies from closing an
	// idle stream; 15s when 0.
	Heartbeat time.Duration
	Log       *slog.Logger

	once      sync.Once
	closeOnce sync.Once
	done      chan struct{}
}

func (h *RiderEvents) doneCh() chan struct{} {
	h.once.Do(func() { h.done = make(chan struct{}) })
	return h.done
}

// Close ends every open stream and refuses new ones with 503; clients
// reconnect with Last-Event-ID, to another replica. http.Server.Shutdown
// does not end streaming requests, so register Close with
// RegisterOnShutdown.
func (h *RiderEvents) Close() {
	done := h.doneCh()
	h.closeOnce.Do(func() { close(done) })
}

// ServeHTTP opens the stream of r's {rider}, replaying after Last-Event-ID.
func (h *RiderEvents) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	select {
	case <-h.doneCh():
		WriteError(w, Errorf(http.StatusServiceUnavailable, CodeInternal, "this replica is shutting down; reconnect"))
		return
	default:
	}
	rider := r.PathValue("rider")
	if e := checkToken("rider", rider); e != nil {
		WriteError(w, e)
		return
	}
	var after uint64
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == math.MaxUint64 {
			WriteError(w, &Error{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: "Last-Event-ID", Message: "Last-Event-ID must be the id of an event this stream sent"})
			return
		}
		after = n
	}
	cons, err := h.consumer(r.Context(), rider, after)
	if err != nil {
		h.log().Error("open rider stream", "rider", rider, "err", err)
		WriteError(w, Errorf(http.StatusServiceUnavailable, CodeInternal, "rider stream unavailable; retry"))
		return
	}
	h.stream(w, r, cons)
}

func (h *RiderEvents) consumer(ctx context.Context, rider string, after uint64) (jetstream.Consumer, error) {
	stream, subject := h.Stream, wire.RiderFilter(rider)
	if h.Source != nil {
		stream, subject = h.Source(rider)
	}
	if stream == "" {
		var err error
		if stream, err = h.JS.StreamNameBySubject(ctx, subject); err != nil {
			return nil, fmt.Errorf("find stream for %s: %w", subject, err)
		}
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}, DeliverPolicy: jetstream.DeliverNewPolicy, InactiveThreshold: time.Minute}
	if after > 0 {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, after+1
	}
	return h.JS.OrderedConsumer(ctx, stream, cfg)
}

// stream writes events until the client goes. Only this goroutine writes
// to w; the consumer's callback hands messages over a small channel.
func (h *RiderEvents) stream(w http.ResponseWriter, r *http.Request, cons jetstream.Consumer) {
	ctx := r.Context()
	msgs := make(chan jetstream.Msg, 16)
	stop := make(chan struct{}) // unblocks the callback before Stop, whatever Stop waits for
	cc, err := cons.Consume(func(m jetstream.Msg) {
		select {
		case msgs <- m:
		case <-stop:
		}
	})
	if err != nil {
		h.log().Error("consume rider stream", "err", err)
		WriteError(w, Errorf(http.StatusServiceUnavailable, CodeInternal, "rider stream unavailable; retry"))
		return
	}
	defer func() {
		close(stop)
		cc.Stop()
	}()
	rc, err := sse.Start(w)
	if err != nil {
		return
	}
	_, _ = w.Write([]byte("retry: 2000\n\n"))
	if rc.Flush() != nil {
		return
	}
	hb := h.Heartbeat
	if hb <= 0 {
		hb = 15 * time.Second
	}
	tick := time.NewTicker(hb)
	defer tick.Stop()
	done := h.doneCh()
	for {
		var err error
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-tick.C:
			_, err = w.Write([]byte(": keep-alive\n\n"))
		case m := <-msgs:
			err = writeEvent(w, m)
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			return
		}
	}
}

func writeEvent(w http.ResponseWriter, m jetstream.Msg) error {
	meta, err := m.Metadata()
	if err != nil {
		return err
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "id: %d\nevent: notification\n", meta.Sequence.Stream)
	data := bytes.ReplaceAll(m.Data(), []byte("\r\n"), []byte("\n"))
	data = bytes.ReplaceAll(data, []byte("\r"), []byte("\n"))
	for line := range bytes.SplitSeq(data, []byte("\n")) { // SSE ends a field at any CR or LF
		b.WriteString("data: ")
		b.Write(line)
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	_, err = w.Write(b.Bytes())
	return err
}

func (h *RiderEvents) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}
