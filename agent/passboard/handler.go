package passboard

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

//go:embed static
var static embed.FS

// Handler serves the pass board below the path it is mounted on (mount it
// with http.StripPrefix, e.g. "/board"):
//
//	GET /            the page (HTML, CSS and JS embedded in the binary)
//	GET /board.json  one snapshot
//	GET /events      Server-Sent Events: an event "board" with the snapshot
//	                 whenever it changes, checked every Interval, and a
//	                 comment every KeepAlive so proxies keep the stream open
//
// Each open stream polls Source on its own; nothing runs while no page is
// open.
type Handler struct {
	Source    Source
	Interval  time.Duration // poll period; 0 means 500 ms
	KeepAlive time.Duration // 0 means 15 s
	Log       *slog.Logger  // nil means slog.Default()

	once sync.Once
	done chan struct{}
}

// Close ends every open event stream (browsers reconnect by themselves)
// and makes new ones end at once. Call it when the HTTP server shuts down
// (http.Server.RegisterOnShutdown), or Shutdown waits for the streams.
func (h *Handler) Close() {
	close(h.closed())
}

func (h *Handler) closed() chan struct{} {
	h.once.Do(func() { h.done = make(chan struct{}) })
	return h.done
}

// ServeHTTP routes the board's three paths.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch r.URL.Path {
	case "/board.json", "board.json":
		h.snapshot(w, r)
	case "/events", "events":
		h.events(w, r)
	default:
		sub, _ := fs.Sub(static, "static")
		w.Header().Set("Cache-Control", "no-cache")
		http.FileServerFS(sub).ServeHTTP(w, r)
	}
}

func (h *Handler) log() *slog.Logger {
	if h.Log == nil {
		return slog.Default()
	}
	return h.Log
}

func (h *Handler) snapshot(w http.ResponseWriter, r *http.Request) {
	b, err := h.encode(r.Context())
	if err != nil {
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(b)
}

func (h *Handler) encode(ctx context.Context) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	b, err := h.Source.Board(ctx)
	if err != nil {
		return nil, fmt.Errorf("build board: %w", err)
	}
	return json.Marshal(b)
}

// events streams snapshots until the client goes away. A snapshot is sent
// only when it differs from the last one sent, ignoring the clock field.
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives any server WriteTimeout
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	interval, keep := or(h.Interval, 500*time.Millisecond), or(h.KeepAlive, 15*time.Second)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var last []byte
	lastWrite := time.Time{}
	for {
		if err := h.push(w, rc, r.Context(), &last, &lastWrite, keep); err != nil {
			h.log().Debug("pass board stream ended", "err", err)
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-h.closed():
			return
		case <-tick.C:
		}
	}
}

// push sends the board when it changed, a keep-alive comment when nothing
// was written for keep, and reports write errors (the client went away).
func (h *Handler) push(w http.ResponseWriter, rc *http.ResponseController, ctx context.Context, last *[]byte, lastWrite *time.Time, keep time.Duration) error {
	b, err := h.encode(ctx)
	switch {
	case err != nil:
		h.log().Warn("pass board snapshot failed", "err", err)
		_, err = fmt.Fprintf(w, "event: problem\ndata: %q\n\n", err.Error())
	case !sameBoard(*last, b):
		*last = b
		_, err = fmt.Fprintf(w, "event: board\ndata: %s\n\n", b)
	case time.Since(*lastWrite) >= keep:
		_, err = fmt.Fprint(w, ": keep-alive\n\n")
	default:
		return nil
	}
	if err != nil {
		return err
	}
	*lastWrite = time.Now()
	return rc.Flush()
}

// sameBoard compares two encoded boards, ignoring "now" and elapsed times,
// which change every poll; the page advances its clocks itself.
func sameBoard(a, b []byte) bool {
	if a == nil {
		return false
	}
	return bytes.Equal(stripClock(a), stripClock(b))
}

func stripClock(b []byte) []byte {
	var v Board
	if json.Unmarshal(b, &v) != nil {
		return b
	}
	v.Now = time.Time{}
	v.Outbox.OldestAgeS = float64(int64(v.Outbox.OldestAgeS) / 10) // changes every 10 s only
	for i := range v.Stations {
		for j := range v.Stations[i].Orders {
			v.Stations[i].Orders[j].ElapsedS = 0
			if p := v.Stations[i].Orders[j].Prediction; p != nil {
				p.PReady = float64(int(p.PReady * 20)) // 5 % steps
				p.ReadyAt, p.Early, p.Late = p.ReadyAt.Truncate(30*time.Second), p.Early.Truncate(30*time.Second), p.Late.Truncate(30*time.Second)
			}
		}
	}
	out, _ := json.Marshal(v)
	return out
}

func or(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
