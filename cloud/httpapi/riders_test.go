package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/httpapi"
	"github.com/passline/passline/cloud/token"
)

// memReceipts knows one order, o1 of store s1 carried by rider r1, and
// records acks (the highest version) and arrivals.
type memReceipts struct {
	mu      sync.Mutex
	version map[string]uint64
	arrived map[string]int
	fail    bool
}

func (m *memReceipts) known(rider, store, order string) error {
	if m.fail {
		return errors.New("kv down")
	}
	if rider != "r1" || store != "s1" || order != "o1" {
		return cloud.ErrUnknownOrder
	}
	return nil
}

func (m *memReceipts) Ack(_ context.Context, rider, store, order string, version uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.known(rider, store, order); err != nil {
		return err
	}
	m.version[order] = max(m.version[order], version)
	return nil
}

func (m *memReceipts) Arrived(_ context.Context, rider, store, order string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.known(rider, store, order); err != nil {
		return err
	}
	m.arrived[order]++
	return nil
}

// TestRiderAckAndArrived runs both routes through the mounted chain:
// bad bodies and paths are 400 naming the field, another rider's token
// 403, an order the rider does not carry 404, a failing store 503, and
// an older ack leaves the newer version.
func TestRiderAckAndArrived(t *testing.T) {
	a, _ := token.NewHS256([]byte("0123456789abcdef0123456789abcdef"))
	a.Now = func() time.Time { return t0 }
	rr := &memReceipts{version: map[string]uint64{}, arrived: map[string]int{}}
	rt := &httpapi.Routes{Auth: &httpapi.Auth{Verifier: a}, RiderAck: httpapi.RiderAck(rr, nil), RiderArrived: httpapi.RiderArrived(rr, nil)}
	h := rt.Handler()
	issue := func(scopes ...string) string {
		tok, _, _ := a.Issue(token.Client{ID: "rider-app", Tier: token.TierFree}, scopes)
		return tok
	}
	r1, r2 := issue(token.RiderScope("r1")), issue(token.RiderScope("r2"))
	tests := []struct {
		name, path, tok, body string
		status                int
		code, field           string
	}{
		{"ack", "/v1/riders/r1/orders/o1/ack", r1, `{"store":"s1","version":3}`, 204, "", ""},
		{"older ack arriving late", "/v1/riders/r1/orders/o1/ack", r1, `{"store":"s1","version":2}`, 204, "", ""},
		{"arrived", "/v1/riders/r1/orders/o1/arrived", r1, `{"store":"s1"}`, 204, "", ""},
		{"arrived again", "/v1/riders/r1/orders/o1/arrived", r1, `{"store":"s1"}`, 204, "", ""},
		{"no token", "/v1/riders/r1/orders/o1/ack", "", `{"store":"s1","version":3}`, 401, "token_missing", ""},
		{"another rider's token", "/v1/riders/r1/orders/o1/ack", r2, `{"store":"s1","version":3}`, 403, "forbidden", ""},
		{"another rider's token, arrived", "/v1/riders/r1/orders/o1/arrived", r2, `{"store":"s1"}`, 403, "forbidden", ""},
		{"a token without a rider scope", "/v1/riders/r1/orders/o1/ack", issue(token.ScopeOrdersRead), `{"store":"s1"}`, 403, "forbidden", ""},
		{"unknown order", "/v1/riders/r1/orders/o9/ack", r1, `{"store":"s1","version":3}`, 404, "not_found", ""},
		{"unknown store", "/v1/riders/r1/orders/o1/arrived", r1, `{"store":"s9"}`, 404, "not_found", ""},
		{"another rider's order", "/v1/riders/r2/orders/o1/ack", r2, `{"store":"s1","version":3}`, 404, "not_found", ""},
		{"no store", "/v1/riders/r1/orders/o1/ack", r1, `{"version":3}`, 400, "invalid_field", "store"},
		{"bad store", "/v1/riders/r1/orders/o1/arrived", r1, `{"store":"s 1"}`, 400, "invalid_field", "store"},
		{"negative version", "/v1/riders/r1/orders/o1/ack", r1, `{"store":"s1","version":-1}`, 400, "wrong_type", "version"},
		{"unknown field", "/v1/riders/r1/orders/o1/ack", r1, `{"store":"s1","v":1}`, 400, "unknown_field", "v"},
		{"empty body", "/v1/riders/r1/orders/o1/ack", r1, ``, 400, "empty_body", ""},
		{"not json", "/v1/riders/r1/orders/o1/arrived", r1, `{`, 400, "malformed_json", ""},
		{"bad order in path", "/v1/riders/r1/orders/o%2A/ack", r1, `{"store":"s1"}`, 400, "invalid_field", "order"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", tt.path, strings.NewReader(tt.body))
			r.Header.Set("Content-Type", "application/json")
			if tt.tok != "" {
				r.Header.Set("Authorization", "Bearer "+tt.tok)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			var body struct {
				Error struct{ Code, Field string } `json:"error"`
			}
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			if rec.Code != tt.status || body.Error.Code != tt.code || body.Error.Field != tt.field {
				t.Fatalf("got %d %q %q (%s), want %d %q %q", rec.Code, body.Error.Code, body.Error.Field, rec.Body, tt.status, tt.code, tt.field)
			}
		})
	}
	if rr.version["o1"] != 3 || rr.arrived["o1"] != 2 {
		t.Fatalf("recorded version %d, arrivals %d; want 3 and 2", rr.version["o1"], rr.arrived["o1"])
	}
	rr.fail = true
	r := httptest.NewRequest("POST", "/v1/riders/r1/orders/o1/ack", strings.NewReader(`{"store":"s1","version":4}`))
	r.Header.Set("Authorization", "Bearer "+r1)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != 503 {
		t.Fatalf("failing store: %d, want 503", rec.Code)
	}
}
