package app

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/bolt"
	"github.com/passline/passline/agent/priorsync"
	"github.com/passline/passline/agent/uplink"
)

// Status is the JSON served at /status and printed by `passline-agent status`.
type Status struct {
	Store      string           `json:"store"`
	Now        time.Time        `json:"now"`
	Uptime     string           `json:"uptime"`
	OpenOrders []OrderSummary   `json:"open_orders"`
	Outbox     OutboxStatus     `json:"outbox"`
	Links      Links            `json:"links"`
	Rejects    map[string]int64 `json:"reject_counts"`
	Ingest     IngestStatus     `json:"ingest"`
	StateDB    StateDBStatus    `json:"state_db"`
	// Prior is the fleet prior the model was given from KV (absent when
	// the decider has no model).
	Prior *priorsync.Status `json:"prior,omitempty"`
}

// OrderSummary is one open order on the status page.
type OrderSummary struct {
	ID         string    `json:"id"`
	ShortCode  string    `json:"short_code,omitempty"`
	Status     string    `json:"status"`
	Station    string    `json:"station,omitempty"`
	Items      int       `json:"items"`
	AcceptedAt time.Time `json:"accepted_at,omitempty"`
	TicketSeen bool      `json:"ticket_seen"`
}

// OutboxStatus is the store-and-forward queue.
type OutboxStatus struct {
	Depth      int64            `json:"depth"`
	Bytes      int64            `json:"bytes"`
	OldestAgeS float64          `json:"oldest_age_s"`
	Drops      map[string]int64 `json:"drops"`
}

// Links are the connections' states.
type Links struct {
	MQTT MQTTLink      `json:"mqtt"`
	NATS uplink.Status `json:"nats"`
}

// MQTTLink is the MQTT source's state.
type MQTTLink struct {
	URL       string `json:"url"`
	Connected bool   `json:"connected"`
	Received  int64  `json:"received"`
	Overflow  int64  `json:"overflow"`
}

// IngestStatus is the writer's state; LastError is set while commits fail.
type IngestStatus struct {
	Queue          int   `json:"queue"`
	Committed      int64 `json:"committed"`
	CommitFailures int64 `json:"commit_failures"`
	DeciderPanics  int64 `json:"decider_panics"`
	// Stale counts events older than ingest.stale_after when they arrived.
	Stale     int64  `json:"stale_events"`
	LastError string `json:"last_error,omitempty"`
}

// StateDBStatus describes the bbolt file.
type StateDBStatus struct {
	Path      string `json:"path"`
	FileBytes int64  `json:"file_bytes"`
	History   int64  `json:"history"`
	Rejects   int64  `json:"rejects_kept"`
}

// Status collects the agent's state from short read transactions.
func (m *Main) Status() (Status, error) {
	st, err := m.DB.Stats()
	if err != nil {
		return Status{}, err
	}
	now, in := time.Now(), m.mqttInput()
	s := Status{Store: m.Config.Store, Now: now, Uptime: now.Sub(m.started).Round(time.Second).String(),
		Outbox:  OutboxStatus{Depth: st.Outbox, Bytes: st.OutboxBytes, Drops: st.Drops},
		Rejects: st.RejectCounts,
		Links: Links{NATS: m.Uplink.Status(), MQTT: MQTTLink{URL: m.mqttURL(), Connected: in.Connected(),
			Received: in.Received(), Overflow: in.Overflow()}},
		Ingest: IngestStatus{Queue: m.Writer.QueueLen(), Committed: m.Writer.Committed(),
			CommitFailures: m.Writer.CommitFailures(), DeciderPanics: m.Writer.DeciderPanics(), LastError: m.Writer.LastError(), Stale: m.Writer.Stale()},
		StateDB: StateDBStatus{Path: m.StatePath(), FileBytes: st.FileBytes, History: st.History, Rejects: st.Rejects},
	}
	if !st.OutboxOldest.IsZero() {
		s.Outbox.OldestAgeS = now.Sub(st.OutboxOldest).Seconds()
	}
	if m.PriorSync != nil {
		ps := m.PriorSync.Status()
		s.Prior = &ps
	}
	err = m.DB.View(func(tx *bolt.Tx) error {
		orders, err := tx.Orders()
		for _, o := range orders {
			s.OpenOrders = append(s.OpenOrders, summarize(o))
		}
		return err
	})
	sort.Slice(s.OpenOrders, func(i, j int) bool { return s.OpenOrders[i].AcceptedAt.Before(s.OpenOrders[j].AcceptedAt) })
	return s, err
}

func summarize(o *agent.Order) OrderSummary {
	return OrderSummary{ID: o.ID, ShortCode: o.ShortCode, Status: string(o.Status), Station: o.Station,
		Items: o.ItemCount(), AcceptedAt: o.AcceptedAt, TicketSeen: o.TicketSeen}
}

func (m *Main) startHTTP(context.Context) error {
	if m.Config.HTTP.Listen == "" {
		return nil
	}
	ln, err := net.Listen("tcp", m.Config.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http listen %s: %w", m.Config.HTTP.Listen, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", m.healthz)
	mux.HandleFunc("GET /status", m.status)
	mux.HandleFunc("GET /rejects", m.rejects)
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	stopBoard := m.mountBoard(mux)
	m.httpLn = ln
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	srv.RegisterOnShutdown(stopBoard)
	m.httpSrv = srv
	m.running.Push("http", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return srv.Shutdown(ctx)
	})
	go func() { // srv, not m.httpSrv: Close clears the field
		if err := srv.Serve(ln); err != nil && err != http.ErrServerClosed {
			m.Log.Error("http server stopped", "err", err)
		}
	}()
	return nil
}

// healthz is 200 while the state db accepts commits, 503 otherwise.
func (m *Main) healthz(w http.ResponseWriter, _ *http.Request) {
	if e := m.Writer.LastError(); e != "" {
		http.Error(w, "state db: "+e, http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

func (m *Main) status(w http.ResponseWriter, _ *http.Request) {
	s, err := m.Status()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	writeJSON(w, s)
}

// rejects serves the newest rejects; ?limit=N (default 100, max 1000).
func (m *Main) rejects(w http.ResponseWriter, r *http.Request) {
	n := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 || n > 1000 {
			http.Error(w, "limit: want 1-1000", http.StatusBadRequest)
			return
		}
	}
	rs, err := m.DB.Rejects(n)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	if rs == nil {
		rs = []agent.Reject{}
	}
	writeJSON(w, rs)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
