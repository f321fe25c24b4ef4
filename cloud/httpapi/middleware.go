package httpapi

import (
	"log/slog"
	"net/http"
	"runtime/debug"
)

// LimitBody caps every request body at limit bytes; a handler reading more
// gets an *http.MaxBytesError (Decode turns it into a 400).
func LimitBody(limit int64, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// Recover turns a handler's panic into a logged JSON 500, so no request
// can take the server down or leave the client with a cut connection.
// http.ErrAbortHandler is re-panicked, as net/http expects.
func Recover(log *slog.Logger, next http.Handler) http.Handler {
	if log == nil {
		log = slog.Default()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			log.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			WriteError(w, Errorf(http.StatusInternalServerError, CodeInternal, "internal error; retry, and report it if it persists"))
		}()
		next.ServeHTTP(w, r)
	})
}
