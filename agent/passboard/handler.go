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
	"strings"
	"sync"
	"time"

	"github.com/passline/passline/internal/sse"
	"github.com/passline/passline/internal/uplot"
)

//go:embed static
var static embed.FS

// Handler serves the pass board below the path it is mounted on (mount it
// with http.StripPrefix, e.g. "/board"):
//
//	GET /            the page (HTML, CSS and JS embedded in the binary)
//	GET /board.json  one snapshot
//	GET /uplot/...   the charting library (internal/uplot)
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
		if rest, ok := strings.CutPrefix(r.URL.Path, "/uplot/"); ok {
			r2 := r.Clone(r.Context())
			r2.URL.Path = "/" + rest
			uplot.Handler().ServeHTTP(w, r2)
			return
		}
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

// events streams snapshots until the client goes away or Close. A
// snapshot is sent only when it differs from the last one sent, ignoring
// the clocks (the page advances those itself).
func (h *Handler) events(w http.ResponseWriter, r *http.Request) {
	rc, err := sse.Start(w)
	if err != nil {
		return
	}
	st := &stream{h: h, w: w, rc: rc, keep: or(h.KeepAlive, 15*time.Second)}
	tick := time.NewTicker(or(h.Interval, 500*time.Millisecond))
	defer tick.Stop()
	for {
		if err := st.push(r.Context()); err != nil {
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

// stream is one open event stream and what it last sent.
type stream struct {
	h         *Handler
	w         http.ResponseWriter
	rc        *http.ResponseController
	keep      time.Duration
	last      []byte // the last board sent, clocks stripped
	problem   string // the last problem sent
	lastWrite time.Time
}

// push sends the board when it changed, a problem when the source fails
// (once per distinct problem), a keep-alive comment when nothing was
// written for keep, and reports write errors (the client went away).
func (s *stream) push(ctx context.Context) error {
	b, err := s.h.encode(ctx)
	switch {
	case err != nil && err.Error() == s.problem:
		return nil
	case err != nil:
		s.h.log().Warn("pass board snapshot failed", "err", err)
		s.problem, s.last = err.Error(), nil // resend the board once it recovers
		_, err = fmt.Fprintf(s.w, "event: problem\ndata: %q\n\n", err.Error())
	case !bytes.Equal(s.last, stripClock(b)):
		s.last, s.problem = stripClock(b), ""
		_, err = fmt.Fprintf(s.w, "event: board\ndata: %s\n\n", b)
	case time.Since(s.lastWrite) >= s.keep:
		_, err = fmt.Fprint(s.w, ": keep-alive\n\n")
	default:
		return nil
	}
	if err != nil {
		return err
	}
	s.lastWrite = time.Now()
	return s.rc.Flush()
}

// stripClock re-encodes a board without what changes every poll: the
// clock, elapsed times, and predictions finer than 30 s or 5 %.
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
