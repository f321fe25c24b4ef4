package httpapi

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/passline/passline/wire"
)

// StoreConfigs keeps store configs and reads what each agent reported.
type StoreConfigs interface {
	// PutConfig stores c under the store's key and returns its revision.
	PutConfig(ctx context.Context, store string, c wire.StoreConfig) (revision uint64, err error)
	// ConfigState returns the stored config's revision (0: none) and the
	// agent's last status (found false: it reported nothing yet).
	ConfigState(ctx context.Context, store string) (revision uint64, st wire.ConfigStatus, found bool, err error)
}

// ConfigView is the answer of GET /v1/stores/{store}/config/status.
type ConfigView struct {
	Store string `json:"store"`
	// Revision is the stored config's revision; 0 when none is stored.
	Revision uint64 `json:"revision"`
	// Current: the agent runs on Revision.
	Current bool `json:"current"`
	// Agent is the agent's own report; null until it has reported.
	Agent *wire.ConfigStatus `json:"agent"`
}

// PutStoreConfig serves PUT /v1/stores/{store}/config: a strict
// wire.StoreConfig JSON body (400 naming the field: params.lead_time,
// rules[2].emit, locale), stored with v set → 200 {"store","revision"},
// 503 when the store fails. Rules are compiled only by the agent, which
// refuses the whole config if one does not compile and says why in its
// status (GET .../config/status). Mount it behind Require,
// RequireScope(config:write) and RequireStore("store").
func PutStoreConfig(s StoreConfigs, log *slog.Logger) http.Handler {
	log = orDefault(log)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		store := r.PathValue("store")
		if e := checkToken("store", store); e != nil {
			WriteError(w, e)
			return
		}
		var c wire.StoreConfig
		if e := Decode(w, r, &c, wire.MaxPayload); e != nil {
			WriteError(w, e)
			return
		}
		c.V = wire.Version
		rev, err := s.PutConfig(r.Context(), store, c)
		if err != nil {
			log.Error("put store config", "store", store, "err", err)
			WriteError(w, Errorf(http.StatusServiceUnavailable, CodeInternal, "could not store the config; retry"))
			return
		}
		WriteJSON(w, http.StatusOK, map[string]any{"store": store, "revision": rev})
	})
}

// StoreConfigStatus serves GET /v1/stores/{store}/config/status: the
// stored revision and the agent's report (applied revision and time, or
// the refused revision and the reason naming the field or rule line) →
// 200 ConfigView, 404 when there is neither, 503 when reading fails. Mount
// it like PutStoreConfig.
func StoreConfigStatus(s StoreConfigs, log *slog.Logger) http.Handler {
	log = orDefault(log)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		store := r.PathValue("store")
		if e := checkToken("store", store); e != nil {
			WriteError(w, e)
			return
		}
		rev, st, found, err := s.ConfigState(r.Context(), store)
		switch {
		case err != nil:
			log.Error("read store config status", "store", store, "err", err)
			WriteError(w, Errorf(http.StatusServiceUnavailable, CodeInternal, "config status unavailable; retry"))
		case rev == 0 && !found:
			WriteError(w, Errorf(http.StatusNotFound, CodeNotFound, "no config stored for store %q and its agent reported none", store))
		default:
			v := ConfigView{Store: store, Revision: rev}
			if found {
				v.Agent, v.Current = &st, st.Revision == rev
			}
			WriteJSON(w, http.StatusOK, v)
		}
	})
}
