package platformtest

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

// Deliveroo fakes Deliveroo's Order API: the client-credentials token
// endpoint (client id and secret in a Basic header) and
// POST /order/v1/orders/{order_id}/prep_stage, checked as
// https://api-docs.deliveroo.com/docs/prep-stages-endpoint describes it
// (cloud/platform/testdata/deliveroo/prep_stage.json): the bearer token, a
// strict body, stage one of the four, occurred_at within the last hour and
// at most 5 minutes ahead, delay 0-10 in steps of 2 and only with
// in_kitchen. Order id gb:unknown answers 404.
func Deliveroo(t *testing.T, clientID, secret, token string) *Fake {
	stages := []string{"in_kitchen", "ready_for_collection_soon", "ready_for_collection", "collected"}
	return New(t, OAuthToken(t, clientID, secret, true, "", token), map[string]Route{
		"POST /order/v1/orders/{order_id}/prep_stage": func(r *http.Request, body []byte) (int, string, string) {
			if !BearerIs(r, token) {
				return 401, `{"code":"unauthorized","message":"bad token"}`, "bad bearer token"
			}
			var req struct {
				Stage      string `json:"stage"`
				OccurredAt string `json:"occurred_at"`
				Delay      *int   `json:"delay"`
			}
			if err := StrictJSON(body, &req); err != nil {
				return 400, `{"code":"bad_request","message":"bad body"}`, "body: " + err.Error()
			}
			at, err := time.Parse(time.RFC3339, req.OccurredAt)
			now := time.Now()
			switch {
			case !slices.Contains(stages, req.Stage):
				return 400, `{"code":"bad_request","message":"bad stage"}`, "stage " + req.Stage
			case err != nil || now.Sub(at) > time.Hour || at.Sub(now) > 5*time.Minute:
				return 400, `{"code":"bad_request","message":"occurred_at out of range"}`, "occurred_at " + req.OccurredAt
			case req.Delay != nil && (req.Stage != "in_kitchen" || *req.Delay < 0 || *req.Delay > 10 || *req.Delay%2 != 0):
				return 400, `{"code":"bad_request","message":"bad delay"}`, fmt.Sprintf("delay %d with %s", *req.Delay, req.Stage)
			}
			if r.PathValue("order_id") == "gb:unknown" {
				return 404, `{"code":"not_found","message":"order gb:unknown not found"}`, ""
			}
			return 200, "", ""
		},
	})
}
