package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// startHTTP serves GET /metrics on http.listen; an empty address serves
// nothing. The listener is bound before Run returns, so HTTPAddr is final.
func (m *Main) startHTTP() error {
	addr := m.Config.HTTP.Listen
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("http.listen %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	m.httpLn = ln
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.Logger.Error("metrics server stopped", "err", err)
		}
	}()
	m.started.Push("http", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		err := srv.Shutdown(ctx)
		<-done
		return err
	})
	m.Logger.Info("serving metrics", "addr", ln.Addr().String())
	return nil
}

// HTTPAddr is the metrics address actually bound ("" when http.listen is
// empty or before Run).
func (m *Main) HTTPAddr() string {
	if m.httpLn == nil {
		return ""
	}
	return m.httpLn.Addr().String()
}
