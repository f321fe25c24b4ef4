package platform_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/passline/passline/cloud/platform"
)

// fake is a platform's API built from its documented shapes: each route
// checks authentication and the body as the platform describes and
// answers as it does. It applies a call once per Idempotency-Key (a
// repeat gets the same answer and is counted as a duplicate), and can be
// told to fail for a while with 500s and 429s first.
type fake struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	applied    []applied
	perKey     map[string]int
	duplicates int
	attempts   int
	refused    []string // why the fake refused a request (bad auth, bad body)
	faultUntil time.Time
	faults     int
}

// applied is one call the fake applied.
type applied struct {
	Route string
	Path  string
	Key   string
	Body  map[string]any
}

// route checks a request (after auth) and returns the status and body to
// answer, or a refusal reason.
type route func(r *http.Request, body []byte) (status int, resp string, refusal string)

func newFake(t *testing.T, token http.HandlerFunc, routes map[string]route) *fake {
	f := &fake{t: t, perKey: map[string]int{}}
	mux := http.NewServeMux()
	if token != nil {
		mux.HandleFunc("POST /oauth2/token", token)
		mux.HandleFunc("POST /oauth/token", token)
	}
	for pattern, rt := range routes {
		mux.HandleFunc(pattern, f.wrap(pattern, rt))
	}
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) URL() string { return f.srv.URL }

// failFor makes every API call in the next d fail, alternating 500 and
// 429 with Retry-After: 1.
func (f *fake) failFor(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faultUntil = time.Now().Add(d)
}

func (f *fake) wrap(name string, rt route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		key := r.Header.Get(platform.HeaderIdempotencyKey)
		f.mu.Lock()
		f.attempts++
		if time.Now().Before(f.faultUntil) {
			f.faults++
			n := f.faults
			f.mu.Unlock()
			if n%2 == 0 {
				w.Header().Set("Retry-After", "1")
				http.Error(w, `{"code":"rate_limited","message":"slow down"}`, http.StatusTooManyRequests)
				return
			}
			http.Error(w, `{"code":"internal","message":"try later"}`, http.StatusInternalServerError)
			return
		}
		if key != "" && f.perKey[key] > 0 {
			f.duplicates++
			f.mu.Unlock()
			w.WriteHeader(http.StatusOK)
			return
		}
		f.mu.Unlock()
		status, resp, refusal := rt(r, body)
		f.mu.Lock()
		defer f.mu.Unlock()
		if refusal != "" {
			f.refused = append(f.refused, refusal)
		} else if status < 300 {
			var m map[string]any
			_ = json.Unmarshal(body, &m)
			f.applied = append(f.applied, applied{Route: name, Path: r.URL.Path, Key: key, Body: m})
			if key != "" {
				f.perKey[key]++
			}
		}
		if resp != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, resp)
	}
}

func (f *fake) snapshot() (calls []applied, refused []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]applied(nil), f.applied...), append([]string(nil), f.refused...)
}

// oauthToken is a client-credentials token endpoint that checks the
// client's id and secret (in a Basic header when basic, else in the form)
// and the scopes, and issues token.
func oauthToken(t *testing.T, id, secret string, basic bool, wantScope, token string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
			http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
			return
		}
		gotID, gotSecret, ok := r.BasicAuth()
		if !basic {
			gotID, gotSecret, ok = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret"), true
		}
		if !ok || gotID != id || gotSecret != secret {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
			return
		}
		if wantScope != "" && r.PostForm.Get("scope") != wantScope {
			http.Error(w, `{"error":"invalid_scope"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"`+token+`","expires_in":300,"token_type":"Bearer"}`)
	}
}

// bearerIs reports whether r carries the bearer token.
func bearerIs(r *http.Request, token string) bool {
	return r.Header.Get("Authorization") == "Bearer "+token
}

// strictJSON decodes body into v refusing unknown fields.
func strictJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

func itoa(i int) string { return strconv.Itoa(i) }
