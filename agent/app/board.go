package app

import (
	"encoding"
	"net/http"

	"github.com/passline/passline/agent/passboard"
	"github.com/passline/passline/agent/uplink"
)

// mountBoard serves the pass board at /board/ (and redirects / to it),
// fed from the state db, the decider's model, the links' states and the
// devices' retained status topics (its own MQTT session, client id
// {store}-board). The returned func ends the board's event streams and
// that session; register it with http.Server.RegisterOnShutdown so Close
// does not wait for open tablets.
func (m *Main) mountBoard(mux *http.ServeMux) (stop func()) {
	src := &passboard.AgentSource{Store: m.Config.Store, DB: m.DB, LeadTime: m.Config.Params.LeadTime,
		Links: boardLinks(m.mqttInput(), m.Uplink, m.mqttURL(), m.Config.NATS.URL)}
	if bm, ok := m.Decider.(encoding.BinaryMarshaler); ok {
		src.Model = bm
	}
	if k := m.KPISync; k != nil {
		src.Rider = k.Today
	}
	log := m.Log.With("component", "passboard")
	devices := &passboard.DeviceWatcher{URL: m.mqttURL(), ClientID: m.Config.Store + "-board",
		Username: m.Config.MQTT.Username, Password: m.Config.MQTT.Password, Store: m.Config.Store, Log: log}
	if m.Broker != nil {
		devices.Username, devices.Password = m.Broker.LocalCredentials()
	}
	if err := devices.Start(); err != nil {
		log.Warn("pass board will not show device health", "err", err)
	} else {
		src.Devices = devices.Devices
	}
	h := &passboard.Handler{Source: src, Log: log}
	mux.Handle("GET /board/", http.StripPrefix("/board", h))
	mux.Handle("GET /{$}", http.RedirectHandler("/board/", http.StatusFound))
	return func() {
		h.Close()
		devices.Close()
	}
}

// boardLinks reports the links from the components Run started; it holds
// them itself so a stream still open during Close never reads Main's fields.
func boardLinks(in mqttInput, up *uplink.Uplink, mqttURL, natsURL string) func() []passboard.Link {
	return func() []passboard.Link {
		ls := []passboard.Link{{Name: "mqtt", Up: in.Connected(), Detail: mqttURL}}
		if up != nil {
			ls = append(ls, passboard.Link{Name: "nats", Up: up.Status().Connected, Detail: natsURL})
		}
		return ls
	}
}
