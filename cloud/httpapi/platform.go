package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/passline/passline/cloud/platform"
)

// PlatformCredentials keeps stores' delivery-platform credentials
// (natsjs.PlatformCredentials, sealed at rest).
type PlatformCredentials interface {
	Put(ctx context.Context, store string, c platform.Credentials) error
	Delete(ctx context.Context, store, p string) error
	// Connected lists the platforms the store has credentials for, with
	// when they were set; it reads no secret.
	Connected(ctx context.Context, store string) (map[string]time.Time, error)
}

// PlatformConnection is one entry of GET /v1/stores/{store}/platforms. It
// never carries a credential.
type PlatformConnection struct {
	Platform  string    `json:"platform"`
	Connected bool      `json:"connected"`
	UpdatedAt time.Time `json:"updated_at,omitzero"`
}

// PlatformRoutes serves a store's platform connections; mount each behind
// Require, RequireScope(platform:write) and RequireStore("store"):
//
//	PUT    /v1/stores/{store}/platforms/{platform}  strict platform.Credentials JSON → 204, 400 naming the field
//	DELETE /v1/stores/{store}/platforms/{platform}  → 204
//	GET    /v1/stores/{store}/platforms             → 200 []PlatformConnection, no secrets
type PlatformRoutes struct {
	Store PlatformCredentials
	Log   *slog.Logger
}

func (p PlatformRoutes) pathParams(w http.ResponseWriter, r *http.Request, withPlatform bool) (store, name string, ok bool) {
	store, name = r.PathValue("store"), r.PathValue("platform")
	if e := checkToken("store", store); e != nil {
		WriteError(w, e)
		return "", "", false
	}
	if withPlatform && !platform.Valid(name) {
		WriteError(w, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Field: "platform",
			Message: "unknown platform " + name + "; one of " + strings.Join(platform.Names, ", ")})
		return "", "", false
	}
	return store, name, true
}

// route serves one route: it checks the path values (and the platform
// when withPlatform), then runs fn; an error from fn means the credential
// store failed: it is logged and answered 503 "could not <what>; retry".
func (p PlatformRoutes) route(withPlatform bool, what string, fn func(w http.ResponseWriter, r *http.Request, store, name string) error) http.Handler {
	log := orDefault(p.Log)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		store, name, ok := p.pathParams(w, r, withPlatform)
		if !ok {
			return
		}
		if err := fn(w, r, store, name); err != nil {
			log.Error("platform credentials: could not "+what, "store", store, "platform", name, "err", err)
			WriteError(w, Errorf(http.StatusServiceUnavailable, CodeInternal, "could not %s; retry", what))
		}
	})
}

// Put stores the store's credentials on one platform.
func (p PlatformRoutes) Put() http.Handler {
	log := orDefault(p.Log)
	return p.route(true, "store the credentials", func(w http.ResponseWriter, r *http.Request, store, name string) error {
		c := platform.Credentials{Platform: name} // Decode validates
		if e := Decode(w, r, &c, MaxBody); e != nil {
			WriteError(w, e)
			return nil
		}
		if c.Platform != "" && c.Platform != name {
			WriteError(w, &Error{Status: http.StatusBadRequest, Code: CodeInvalidField, Field: "platform", Message: "platform must match the path or be left out"})
			return nil
		}
		c.Platform, c.UpdatedAt = name, time.Now().UTC()
		if err := c.Validate(); err != nil {
			WriteError(w, &Error{Status: http.StatusBadRequest, Code: CodeInvalidField, Message: err.Error()})
			return nil
		}
		if err := p.Store.Put(r.Context(), store, c); err != nil {
			return err
		}
		log.Info("platform credentials set", "store", store, "platform", name)
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// Delete removes the store's credentials on one platform.
func (p PlatformRoutes) Delete() http.Handler {
	return p.route(true, "delete the credentials", func(w http.ResponseWriter, r *http.Request, store, name string) error {
		if err := p.Store.Delete(r.Context(), store, name); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// List says which platforms the store is connected to.
func (p PlatformRoutes) List() http.Handler {
	return p.route(false, "read the connections", func(w http.ResponseWriter, r *http.Request, store, _ string) error {
		got, err := p.Store.Connected(r.Context(), store)
		if err != nil {
			return err
		}
		out := make([]PlatformConnection, 0, len(platform.Names))
		for _, n := range platform.Names {
			at, ok := got[n]
			out = append(out, PlatformConnection{Platform: n, Connected: ok, UpdatedAt: at})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].Platform < out[j].Platform })
		WriteJSON(w, http.StatusOK, out)
		return nil
	})
}
