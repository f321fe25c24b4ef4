package token

import (
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// MaxFormBytes is the largest POST /oauth/token body read.
const MaxFormBytes = 4 << 10

// Handler serves POST /oauth/token: the OAuth 2 client-credentials grant
// (RFC 6749 section 4.4). The client authenticates with HTTP Basic or with
// client_id and client_secret in the form, never both. Errors are RFC 6749
// section 5.2 JSON: {"error":"invalid_client","error_description":"..."}.
type Handler struct {
	Clients   *Clients
	Authority *Authority
	Log       *slog.Logger // nil: slog.Default()
	// Throttle, when set, is asked before any secret is checked, with
	// "ip:" and the caller's address (bcrypt is deliberately slow, so an
	// unthrottled endpoint is a CPU sink). It returns false and how long to
	// wait to refuse the request with 429 and Retry-After.
	Throttle func(key string) (retryAfter time.Duration, ok bool)
}

// response is RFC 6749 section 5.1.
type response struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
}

type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

// ServeHTTP answers one token request.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeOAuth(w, http.StatusMethodNotAllowed, "invalid_request", "use POST")
		return
	}
	id, secret, basic, err := credentials(w, r)
	if err != nil {
		writeOAuth(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "client_credentials" {
		if gt == "" {
			writeOAuth(w, http.StatusBadRequest, "invalid_request", "grant_type is missing; send grant_type=client_credentials")
			return
		}
		writeOAuth(w, http.StatusBadRequest, "unsupported_grant_type", "only grant_type=client_credentials is supported")
		return
	}
	if h.Throttle != nil {
		host, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			host = r.RemoteAddr
		}
		if wait, ok := h.Throttle("ip:" + host); !ok {
			w.Header().Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
			writeOAuth(w, http.StatusTooManyRequests, "rate_limited", "too many token requests from this address; retry after Retry-After seconds")
			return
		}
	}
	c, err := h.Clients.Authenticate(r.Context(), id, secret)
	if err != nil {
		if !errors.Is(err, ErrBadCredentials) {
			h.log().Error("authenticate client", "client", id, "err", err)
			writeOAuth(w, http.StatusServiceUnavailable, "temporarily_unavailable", "client store unavailable; retry later")
			return
		}
		if basic {
			w.Header().Set("WWW-Authenticate", `Basic realm="passline"`)
		}
		writeOAuth(w, http.StatusUnauthorized, "invalid_client", "client authentication failed: check client_id and client_secret")
		return
	}
	scopes, err := c.Grant(strings.Fields(r.PostForm.Get("scope")))
	if err != nil {
		writeOAuth(w, http.StatusBadRequest, "invalid_scope", err.Error())
		return
	}
	tok, _, err := h.Authority.Issue(c, scopes)
	if err != nil {
		h.log().Error("issue token", "client", c.ID, "err", err)
		writeOAuth(w, http.StatusInternalServerError, "server_error", "could not sign the token")
		return
	}
	writeJSON(w, http.StatusOK, response{AccessToken: tok, TokenType: "Bearer", ExpiresIn: int(h.Authority.Lifetime().Seconds()), Scope: strings.Join(scopes, " ")})
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}

// credentials parses the form and returns the client's id and secret and
// whether they came by HTTP Basic.
func credentials(w http.ResponseWriter, r *http.Request) (id, secret string, basic bool, err error) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "application/x-www-form-urlencoded" {
		return "", "", false, errors.New("Content-Type must be application/x-www-form-urlencoded")
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return "", "", false, errors.New("body is larger than 4096 bytes")
		}
		return "", "", false, errors.New("body is not a valid form")
	}
	formID, formSecret := r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	u, p, ok := r.BasicAuth()
	switch {
	case ok && (formID != "" || formSecret != ""):
		return "", "", false, errors.New("send client credentials by HTTP Basic or in the form, not both")
	case ok:
		// RFC 6749 2.3.1: id and secret are form-encoded before Basic.
		if id, err = url.QueryUnescape(u); err == nil {
			secret, err = url.QueryUnescape(p)
		}
		if err != nil {
			return "", "", false, errors.New("basic credentials are not form-encoded")
		}
		return id, secret, true, nil
	case formID == "" || formSecret == "":
		return "", "", false, errors.New("client_id and client_secret are required (HTTP Basic or form)")
	}
	return formID, formSecret, false, nil
}

func writeOAuth(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, oauthError{Error: code, Description: desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
