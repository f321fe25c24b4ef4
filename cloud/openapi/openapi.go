// Package openapi embeds the relay API's OpenAPI 3 description
// (openapi.yaml, the contract clients read) and lists its routes, so tests
// can check the served routes against it: every documented route is
// mounted and answers only documented statuses.
package openapi

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Spec is openapi.yaml as embedded in the binary.
//
//go:embed openapi.yaml
var Spec []byte

// Route is one operation of the API.
type Route struct {
	Method    string   // GET, POST, PUT, ...
	Path      string   // OpenAPI path, e.g. /v1/stores/{store}/orders/{order}
	Responses []string // documented status codes, e.g. "200", "401"
	Scopes    []string // bearer scopes required; empty for public routes
	// BodyType and Body are the request body's media type and the spec's
	// example body, when the operation has one.
	BodyType string
	Body     []byte
}

// Pattern is the route as a net/http ServeMux pattern, "GET /v1/...".
func (r Route) Pattern() string { return r.Method + " " + r.Path }

// Sample returns Path with each {param} replaced by a sample value
// ("sample-" + param name, or a valid value for kind, locale and
// platform).
func (r Route) Sample() string {
	out := r.Path
	for {
		i := strings.IndexByte(out, '{')
		j := strings.IndexByte(out, '}')
		if i < 0 || j < i {
			return out
		}
		name := out[i+1 : j]
		val := map[string]string{"kind": "ready", "locale": "en", "platform": "deliveroo"}[name]
		if val == "" {
			val = "sample-" + name
		}
		out = out[:i] + val + out[j+1:]
	}
}

// Documents reports whether status is one of the route's responses
// (exactly, as a range like "4XX", or "default").
func (r Route) Documents(status int) bool {
	s := fmt.Sprint(status)
	return slices.Contains(r.Responses, s) || slices.Contains(r.Responses, s[:1]+"XX") || slices.Contains(r.Responses, "default")
}

type document struct {
	OpenAPI string                          `yaml:"openapi"`
	Paths   map[string]map[string]operation `yaml:"paths"`
}

type operation struct {
	Responses   map[string]yaml.Node  `yaml:"responses"`
	Security    []map[string][]string `yaml:"security"`
	RequestBody *struct {
		Content map[string]struct {
			Example any `yaml:"example"`
		} `yaml:"content"`
	} `yaml:"requestBody"`
}

var methods = map[string]string{"get": "GET", "put": "PUT", "post": "POST", "delete": "DELETE", "patch": "PATCH", "head": "HEAD", "options": "OPTIONS"}

// Parse reads an OpenAPI 3 document and returns its routes sorted by path
// and method. It fails when the document is not OpenAPI 3, a method is
// unknown, or an operation documents no responses.
func Parse(b []byte) ([]Route, error) {
	var doc document
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		return nil, fmt.Errorf("openapi: version %q, want 3.x", doc.OpenAPI)
	}
	var routes []Route
	for path, ops := range doc.Paths {
		for m, op := range ops {
			method, ok := methods[m]
			if !ok {
				if m == "parameters" || m == "summary" || m == "description" {
					continue
				}
				return nil, fmt.Errorf("openapi: %s: unknown method %q", path, m)
			}
			r, err := route(method, path, op)
			if err != nil {
				return nil, err
			}
			routes = append(routes, r)
		}
	}
	sort.Slice(routes, func(i, j int) bool {
		if routes[i].Path != routes[j].Path {
			return routes[i].Path < routes[j].Path
		}
		return routes[i].Method < routes[j].Method
	})
	return routes, nil
}

func route(method, path string, op operation) (Route, error) {
	r := Route{Method: method, Path: path}
	if len(op.Responses) == 0 {
		return r, fmt.Errorf("openapi: %s %s documents no responses", method, path)
	}
	for code := range op.Responses {
		r.Responses = append(r.Responses, code)
	}
	sort.Strings(r.Responses)
	for _, req := range op.Security {
		r.Scopes = append(r.Scopes, req["bearer"]...)
	}
	if op.RequestBody != nil {
		for mt, c := range op.RequestBody.Content {
			r.BodyType = mt
			switch ex := c.Example.(type) {
			case nil:
			case string:
				r.Body = []byte(ex)
			default:
				b, err := json.Marshal(ex)
				if err != nil {
					return r, fmt.Errorf("openapi: %s %s: example: %w", method, path, err)
				}
				r.Body = b
			}
		}
	}
	return r, nil
}

// Routes returns the routes of the embedded Spec. It panics if the
// embedded file is broken, which this package's tests rule out.
func Routes() []Route {
	r, err := Parse(Spec)
	if err != nil {
		panic(err)
	}
	return r
}

// Handler serves Spec as application/yaml; mount it at GET /openapi.yaml.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		_, _ = w.Write(Spec)
	})
}
