// Package platformtest starts fake delivery-platform APIs for tests: each
// Route checks authentication and the body as the platform documents them,
// applies a call once per Idempotency-Key, and can fail for a while with
// 500s and 429s.
package platformtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passline/passline/cloud/platform"
)

// Fake is a platform's API built from its documented shapes: each route
// checks authentication and the body as the platform describes and
// answers as it does. It applies a call once per Idempotency-Key (a
// repeat gets the same answer and is counted as a duplicate), and can be
// told to fail for a while with 500s and 429s first.
type Fake struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	applied    []Applied
	perKey     map[string]int
	duplicates int
	attempts   int
	refused    []string // why the fake refused a request (bad auth, bad body)
	faultUntil time.Time
	faults     int
}

// Applied is one call the fake applied.
type Applied struct {
	Route string
	Path  string
	Key   string
	Body  map[string]any
}

// Route checks a request (after auth) and returns the status and body to
// answer, or a refusal reason.
type Route func(r *http.Request, body []byte) (status int, resp string, refusal string)

// New starts a fake with a token endpoint (at /oauth2/token and
// /oauth/token; nil for none) and routes, closed in cleanup.
func New(t *testing.T, token http.HandlerFunc, routes map[string]Route) *Fake {
	f := &Fake{t: t, perKey: map[string]int{}}
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

// URL is the fake's base URL.
func (f *Fake) URL() string { return f.srv.URL }

// FailFor makes every API call in the next d fail, alternating 500 and
// 429 with Retry-After: 1; every third fault is a 500 answered after the
// call was applied (a lost answer), so the caller repeats a call the fake
// already applied and only the Idempotency-Key keeps it from applying
// twice.
func (f *Fake) FailFor(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faultUntil = time.Now().Add(d)
}

func (f *Fake) wrap(name string, rt Route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		key := r.Header.Get(platform.HeaderIdempotencyKey)
		f.mu.Lock()
		f.attempts++
		lostAnswer := false
		if time.Now().Before(f.faultUntil) {
			f.faults++
			n := f.faults
			f.mu.Unlock()
			switch {
			case n%3 == 0 && key != "":
				lostAnswer = true
			case n%2 == 0:
				w.Header().Set("Retry-After", "1")
				http.Error(w, `{"code":"rate_limited","message":"slow down"}`, http.StatusTooManyRequests)
				return
			default:
				http.Error(w, `{"code":"internal","message":"try later"}`, http.StatusInternalServerError)
				return
			}
			f.mu.Lock()
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
			f.applied = append(f.applied, Applied{Route: name, Path: r.URL.Path, Key: key, Body: m})
			if key != "" {
				f.perKey[key]++
			}
		}
		if lostAnswer {
			status, resp = http.StatusInternalServerError, `{"code":"internal","message":"answer lost"}`
		}
		if resp != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, resp)
	}
}

// Counts returns the requests received, the faults answered and the
// repeated idempotency keys answered without applying.
func (f *Fake) Counts() (attempts, faults, duplicates int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts, f.faults, f.duplicates
}

// PerKey returns how many times each idempotency key was applied.
func (f *Fake) PerKey() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.perKey)
}

// Snapshot returns the applied calls and the refusals so far.
func (f *Fake) Snapshot() (calls []Applied, refused []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Applied(nil), f.applied...), append([]string(nil), f.refused...)
}

// OAuthToken is a client-credentials token endpoint that checks the
// client's id and secret (in a Basic header when basic, else in the form)
// and the scopes, and issues token.
func OAuthToken(t *testing.T, id, secret string, basic bool, wantScope, token string) http.HandlerFunc {
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

// BearerIs reports whether r carries the bearer token.
func BearerIs(r *http.Request, token string) bool {
	return r.Header.Get("Authorization") == "Bearer "+token
}

// StrictJSON decodes body into v refusing unknown fields.
func StrictJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// Fixture reads the file at path, dropping the "//" comment lines that name
// the documentation the fixture was built from.
func Fixture(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if strings.HasPrefix(strings.TrimSpace(sc.Text()), "//") {
			continue
		}
		out.Write(sc.Bytes())
		out.WriteByte('\n')
	}
	return bytes.TrimSpace(out.Bytes())
}
