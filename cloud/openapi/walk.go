package openapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Result is what one route answered in Walk.
type Result struct {
	Route       Route
	Status      int
	ContentType string
	ErrorCode   string // error.code of a JSON error body, if any
	Err         error  // the request failed
}

// Problem says what is wrong with the answer, or nil: the request failed,
// net/http's own plain-text 404 or 405 or httpapi's no_route 404 came back
// (the route is not mounted), or the status is not documented for the
// route.
func (r Result) Problem() error {
	switch {
	case r.Err != nil:
		return fmt.Errorf("%s: %w", r.Route.Pattern(), r.Err)
	case (r.Status == http.StatusNotFound || r.Status == http.StatusMethodNotAllowed) && strings.HasPrefix(r.ContentType, "text/plain"):
		return fmt.Errorf("%s: not mounted (%d from the mux)", r.Route.Pattern(), r.Status)
	case r.Status == http.StatusNotFound && r.ErrorCode == "no_route":
		return fmt.Errorf("%s: not mounted (no_route)", r.Route.Pattern())
	case !r.Route.Documents(r.Status):
		return fmt.Errorf("%s: status %d is not documented (documented: %v)", r.Route.Pattern(), r.Status, r.Route.Responses)
	}
	return nil
}

// Walk calls every route of routes on the server at base (e.g.
// "http://127.0.0.1:8080") with sample path values and the spec's example
// body, after prepare (nil: none) has had a chance to add headers such as
// Authorization. Each call gets timeout (5s when 0); streaming answers are
// closed once their headers arrive.
func Walk(client *http.Client, base string, routes []Route, timeout time.Duration, prepare func(*http.Request, Route)) []Result {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	out := make([]Result, 0, len(routes))
	for _, rt := range routes {
		out = append(out, call(client, base, rt, timeout, prepare))
	}
	return out
}

func call(client *http.Client, base string, rt Route, timeout time.Duration, prepare func(*http.Request, Route)) Result {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	res := Result{Route: rt}
	req, err := http.NewRequestWithContext(ctx, rt.Method, strings.TrimSuffix(base, "/")+rt.Sample(), bytes.NewReader(rt.Body))
	if err != nil {
		res.Err = err
		return res
	}
	if rt.BodyType != "" {
		req.Header.Set("Content-Type", rt.BodyType)
	}
	if prepare != nil {
		prepare(req, rt)
	}
	resp, err := client.Do(req)
	if err != nil {
		res.Err = err
		return res
	}
	defer resp.Body.Close()
	res.Status, res.ContentType = resp.StatusCode, resp.Header.Get("Content-Type")
	if strings.HasPrefix(res.ContentType, "text/event-stream") {
		return res
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil {
		res.ErrorCode = e.Error.Code
	}
	return res
}
