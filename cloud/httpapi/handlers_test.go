package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/passline/passline/cloud/httpapi"
	"github.com/passline/passline/cloud/template"
	"github.com/passline/passline/cloud/token"
	"github.com/passline/passline/wire"
)

// serve runs h on one request carrying claims for stores s1 (nil: none).
func serve(h http.Handler, pattern, method, target, body string, claims *token.Claims) (int, map[string]any) {
	mux := http.NewServeMux()
	mux.Handle(pattern, h)
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if claims != nil {
		r = r.WithContext(httpapi.WithClaims(r.Context(), claims))
	}
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, r)
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

func errField(body map[string]any) (code, field string) {
	e, _ := body["error"].(map[string]any)
	code, _ = e["code"].(string)
	field, _ = e["field"].(string)
	return code, field
}

var s1Claims = &token.Claims{Stores: []string{"s1"}, RegisteredClaims: jwt.RegisteredClaims{Subject: "platform"}}

func TestAssignmentsHandler(t *testing.T) {
	var got []wire.Assignment
	fail := false
	h := httpapi.Assignments(func(_ context.Context, a wire.Assignment) error {
		if fail {
			return errors.New("kv down")
		}
		got = append(got, a)
		return nil
	}, nil)
	body := func(store, extra string) string {
		return `{"v":1,"store":"` + store + `","order_id":"o1","rider":"r1","at":"2026-11-24T09:00:00Z"` + extra + `}`
	}
	tests := []struct {
		name        string
		body        string
		claims      *token.Claims
		fail        bool
		status      int
		code, field string
	}{
		{"stored", body("s1", ""), s1Claims, false, 204, "", ""},
		{"other tenant's store", body("s2", ""), s1Claims, false, 403, "forbidden", ""},
		{"unknown field", body("s1", `,"tip":5`), s1Claims, false, 400, "unknown_field", "tip"},
		{"wrong type", body("s1", `,"travel_s":"soon"`), s1Claims, false, 400, "wrong_type", "travel_s"},
		{"bad rider", strings.Replace(body("s1", ""), `"r1"`, `"r 1"`, 1), s1Claims, false, 400, "invalid_field", "rider"},
		{"wrong version", strings.Replace(body("s1", ""), `"v":1`, `"v":2`, 1), s1Claims, false, 400, "invalid_field", "v"},
		{"no claims", body("s1", ""), nil, false, 403, "forbidden", ""},
		{"store fails", body("s1", ""), s1Claims, true, 503, "internal", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, fail = nil, tt.fail
			status, out := serve(h, "POST /v1/assignments", "POST", "/v1/assignments", tt.body, tt.claims)
			code, field := errField(out)
			if status != tt.status || code != tt.code || field != tt.field {
				t.Fatalf("got %d %q %q, want %d %q %q", status, code, field, tt.status, tt.code, tt.field)
			}
			if (status == 204) != (len(got) == 1) {
				t.Fatalf("assign called %d times with status %d", len(got), status)
			}
		})
	}
}

func TestOrderHandler(t *testing.T) {
	h := httpapi.Order(func(_ context.Context, store, order string) (any, bool, error) {
		switch order {
		case "o1":
			return map[string]any{"store": store, "order_id": order, "status": "started", "probability": 0.9}, true, nil
		case "boom":
			return nil, false, errors.New("kv down")
		}
		return nil, false, nil
	}, nil)
	for target, want := range map[string]struct {
		status int
		code   string
	}{
		"/v1/stores/s1/orders/o1":   {200, ""},
		"/v1/stores/s1/orders/none": {404, "not_found"},
		"/v1/stores/s1/orders/boom": {503, "internal"},
		"/v1/stores/s%2A/orders/o1": {400, "invalid_field"},
	} {
		status, out := serve(h, "GET /v1/stores/{store}/orders/{order}", "GET", target, "", s1Claims)
		code, _ := errField(out)
		if status != want.status || code != want.code {
			t.Errorf("%s: %d %q, want %d %q", target, status, code, want.status, want.code)
		}
		if status == 200 && out["order_id"] != "o1" {
			t.Errorf("view %v", out)
		}
	}
}

type putter func(ctx context.Context, k template.Key, src string) (uint64, error)

func (p putter) PutTemplate(ctx context.Context, k template.Key, src string) (uint64, error) {
	return p(ctx, k, src)
}

func TestTemplateHandler(t *testing.T) {
	h := httpapi.Template(putter(func(_ context.Context, k template.Key, src string) (uint64, error) {
		switch {
		case strings.Contains(src, "{{"+"bad"):
			return 0, &template.ParseError{Line: 2, Reason: `function "bad" not defined`}
		case strings.Contains(src, "fail"):
			return 0, errors.New("kv down")
		}
		return 3, nil
	}), nil)
	pattern := "PUT /v1/merchants/{merchant}/templates/{kind}/{locale}"
	tests := []struct {
		name, target, body string
		status             int
		code, field        string
	}{
		{"stored", "/v1/merchants/m1/templates/ready/en", "Order {{.ShortCode}} is ready", 200, "", ""},
		{"does not compile", "/v1/merchants/m1/templates/ready/en", "line one\n{{bad}}", 400, "invalid_field", "body"},
		{"too long", "/v1/merchants/m1/templates/ready/en", strings.Repeat("x", template.MaxLen+1), 400, "body_too_large", "body"},
		{"unknown kind", "/v1/merchants/m1/templates/soon/en", "x", 400, "invalid_field", ""},
		{"unknown locale", "/v1/merchants/m1/templates/ready/fr", "x", 400, "invalid_field", ""},
		{"store fails", "/v1/merchants/m1/templates/ready/en", "fail", 503, "internal", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := serve(h, pattern, "PUT", tt.target, tt.body, s1Claims)
			code, field := errField(out)
			if status != tt.status || code != tt.code || field != tt.field {
				t.Fatalf("got %d %q %q (%v), want %d %q %q", status, code, field, out, tt.status, tt.code, tt.field)
			}
			if status == 200 && out["version"] != float64(3) {
				t.Fatalf("body %v", out)
			}
		})
	}
}
