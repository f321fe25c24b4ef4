// Package sse starts Server-Sent Events responses the same way for every
// Passline page and API stream: no write deadline, no caching, no proxy
// buffering. What a stream sends, and how often it sends a keep-alive, is
// the caller's.
//
// It is plumbing only: it knows no Passline type.
package sse

import (
	"net/http"
	"time"
)

// Start answers 200 with the text/event-stream headers, lifts the
// server's write timeout for this response (a stream outlives it) and
// flushes, so the client sees the stream open at once. Flush through the
// returned controller after each event; a Flush error means the client is
// gone. The error is the first Flush's.
func Start(w http.ResponseWriter) (*http.ResponseController, error) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // not every ResponseWriter supports deadlines; then there is none to lift
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // nginx would hold events back
	w.WriteHeader(http.StatusOK)
	return rc, rc.Flush()
}
