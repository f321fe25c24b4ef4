package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/passline/passline/cloud/token"
)

// Verifier checks a bearer token; *token.Authority is one.
type Verifier interface {
	Verify(tok string) (*token.Claims, error)
}

var _ Verifier = (*token.Authority)(nil)

// Auth authenticates requests with a bearer JWT and, when Active is set,
// refuses tokens of revoked clients.
type Auth struct {
	Verifier Verifier
	// Active reports whether a client may still use its tokens
	// ((*token.Clients).Active). nil: tokens are good until they expire.
	Active func(ctx context.Context, clientID string) (bool, error)
	// ActiveTTL is how long an Active answer is cached; 30s when 0. A
	// revocation takes at most this long to reach every replica.
	ActiveTTL time.Duration
	// Now is the cache's clock; time.Now when nil.
	Now func() time.Time
	Log *slog.Logger
	// Metrics counts refusals by reason; nil: none.
	Metrics *Metrics

	mu    sync.Mutex
	cache map[string]activeEntry
}

type activeEntry struct {
	active bool
	until  time.Time
}

type claimsKey struct{}

// ClaimsFrom returns the verified claims Require put in ctx.
func ClaimsFrom(ctx context.Context) (*token.Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*token.Claims)
	return c, ok
}

// WithClaims returns ctx carrying c, as Require does; for tests and for
// handlers composed without Require.
func WithClaims(ctx context.Context, c *token.Claims) context.Context {
	return context.WithValue(ctx, claimsKey{}, c)
}

// Require lets a request through only with a valid "Authorization: Bearer"
// token; otherwise 401 with the reason (missing, malformed, bad_signature,
// expired, not_yet_valid, invalid, revoked) in the JSON message and in
// WWW-Authenticate.
func (a *Auth) Require(next http.Handler) http.Handler {
	return a.require(next, false)
}

// RequireStream is Require that also accepts the token in the
// access_token query parameter, because browsers' EventSource cannot set
// headers. Use it only on the SSE route: URLs end up in logs.
func (a *Auth) RequireStream(next http.Handler) http.Handler {
	return a.require(next, true)
}

func (a *Auth) require(next http.Handler, query bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := bearer(r)
		if !ok && query {
			tok = r.URL.Query().Get("access_token")
		}
		claims, err := a.Verifier.Verify(tok)
		if err != nil {
			var ve *token.VerifyError
			reason := token.ReasonInvalid
			if errors.As(err, &ve) {
				reason = ve.Reason
			}
			a.Metrics.refusedToken(reason)
			unauthorized(w, reason)
			return
		}
		if active, err := a.active(r.Context(), claims.Subject); err != nil {
			a.log().Error("check client", "client", claims.Subject, "err", err)
			WriteError(w, Errorf(http.StatusServiceUnavailable, CodeInternal, "cannot check the client now; retry"))
			return
		} else if !active {
			a.Metrics.refusedToken(token.ReasonRevoked)
			unauthorized(w, token.ReasonRevoked)
			return
		}
		next.ServeHTTP(w, r.WithContext(WithClaims(r.Context(), claims)))
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

var fixes = map[token.Reason]string{
	token.ReasonMissing:      "send Authorization: Bearer <access_token> from POST /oauth/token",
	token.ReasonMalformed:    "the access token is not a JWT; send the access_token field of POST /oauth/token unchanged",
	token.ReasonBadSignature: "the access token was not signed by this service; request a new one at POST /oauth/token",
	token.ReasonExpired:      "the access token expired; request a new one at POST /oauth/token",
	token.ReasonNotYetValid:  "the access token is not valid yet; check your clock or request a new one",
	token.ReasonInvalid:      "the access token's claims are invalid; request a new one at POST /oauth/token",
	token.ReasonRevoked:      "this client was revoked; contact Passline",
}

func unauthorized(w http.ResponseWriter, reason token.Reason) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="passline", error="invalid_token", error_description=%q`, string(reason)))
	WriteError(w, Errorf(http.StatusUnauthorized, "token_"+string(reason), "%s", fixes[reason]))
}

// active answers from the cache, asking Active when the entry is stale.
func (a *Auth) active(ctx context.Context, client string) (bool, error) {
	if a.Active == nil {
		return true, nil
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	a.mu.Lock()
	e, ok := a.cache[client]
	a.mu.Unlock()
	if ok && !now().After(e.until) {
		return e.active, nil
	}
	active, err := a.Active(ctx, client)
	if err != nil {
		return false, err
	}
	ttl := a.ActiveTTL
	if ttl == 0 {
		ttl = 30 * time.Second
	}
	a.mu.Lock()
	if a.cache == nil {
		a.cache = map[string]activeEntry{}
	}
	a.cache[client] = activeEntry{active: active, until: now().Add(ttl)}
	a.mu.Unlock()
	return active, nil
}

func (a *Auth) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}

// RequireScope lets a request through only when its token (from Require)
// carries scope; otherwise 403 naming the scope.
func RequireScope(scope string, next http.Handler) http.Handler {
	return check(next, func(r *http.Request, c *token.Claims) *Error {
		if c.HasScope(scope) {
			return nil
		}
		return Errorf(http.StatusForbidden, CodeForbidden, "this route needs scope %s; request it at POST /oauth/token", scope)
	})
}

// RequireRider lets a request through only when its token carries
// rider:{id} for the rider named by path wildcard param, e.g. "rider" in
// GET /v1/riders/{rider}/events; otherwise 403.
func RequireRider(param string, next http.Handler) http.Handler {
	return check(next, func(r *http.Request, c *token.Claims) *Error {
		rider := r.PathValue(param)
		if rider != "" && c.HasScope(token.RiderScope(rider)) {
			return nil
		}
		return Errorf(http.StatusForbidden, CodeForbidden, "this route needs scope rider:%s; a token acts only for its own rider", rider)
	})
}

// RequireStore lets a request through only when its token may touch the
// store named by path wildcard param; otherwise 403.
func RequireStore(param string, next http.Handler) http.Handler {
	return check(next, func(r *http.Request, c *token.Claims) *Error {
		if s := r.PathValue(param); s != "" && c.CanStore(s) {
			return nil
		}
		return Errorf(http.StatusForbidden, CodeForbidden, "this client may not access store %q", r.PathValue(param))
	})
}

// RequireMerchant lets a request through only when its token may touch the
// merchant named by path wildcard param; otherwise 403.
func RequireMerchant(param string, next http.Handler) http.Handler {
	return check(next, func(r *http.Request, c *token.Claims) *Error {
		if m := r.PathValue(param); m != "" && c.CanMerchant(m) {
			return nil
		}
		return Errorf(http.StatusForbidden, CodeForbidden, "this client may not access merchant %q", r.PathValue(param))
	})
}

// check runs fn on the request's claims; no claims (Require missing from
// the chain) is a 401, never a pass.
func check(next http.Handler, fn func(*http.Request, *token.Claims) *Error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok := ClaimsFrom(r.Context())
		if !ok {
			unauthorized(w, token.ReasonMissing)
			return
		}
		if e := fn(r, c); e != nil {
			WriteError(w, e)
			return
		}
		next.ServeHTTP(w, r)
	})
}
