package platform

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/passline/passline/wire"
)

// MeituanAdapter speaks the Meituan Waimai open platform.
//
// Outbound, the meal-ready report (出餐上报) from a real kitchen event:
// POST /api/v1/order/preparationMealComplete, form parameters app_id,
// timestamp (Unix seconds), order_id and sig, where sig is the lowercase
// hex MD5 of the request URL + "?" + every other parameter as k=v sorted
// by name and joined with "&" + the app secret. Meituan answers 200
// {"data":"ok"}, or 200 {"data":"ng","error":{"code":..,"msg":..}} when it
// refuses, which the adapter turns into a permanent error (parked with
// the code and message). Meituan refuses a report made within a minute of
// the order's acceptance; such a refusal is parked like any other.
//
// Documentation: Meituan's own pages (developer.waimai.meituan.com) were
// not in the reference corpus. The signing rule is the one third-party
// implementations describe; the endpoint name is Passline's best
// knowledge, not checked against Meituan's page: verify both before
// production (cloud/platform/testdata/meituan says the same). Predictions
// are not sent: no estimate field is known. No inbound receiver is built.
type MeituanAdapter struct{}

// NewMeituan returns the Meituan adapter.
func NewMeituan() *MeituanAdapter { return &MeituanAdapter{} }

const meituanBaseURL = "https://waimaiopen.meituan.com"

// MeituanMealCompletePath is the meal-ready report's path.
const MeituanMealCompletePath = "/api/v1/order/preparationMealComplete"

// Platform is "meituan".
func (*MeituanAdapter) Platform() string { return Meituan }

// BaseURL is Meituan's API root.
func (*MeituanAdapter) BaseURL() string { return meituanBaseURL }

// Plan reports a real ready; the form is signed in Authorize, which knows
// the final URL.
func (a *MeituanAdapter) Plan(u Update, _ Credentials, _ time.Time) (Call, bool) {
	if u.Kind != wire.KindReady || !u.Kitchen() {
		return Call{}, false
	}
	return Call{Endpoint: "preparationMealComplete", Method: http.MethodPost, Path: MeituanMealCompletePath,
		Body: []byte(url.Values{"order_id": {u.Order.PlatformID}}.Encode()), ContentType: "application/x-www-form-urlencoded"}, true
}

// MeituanSign is sig for the request URL (without query) and params.
func MeituanSign(requestURL string, params url.Values, secret string) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "sig" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(requestURL)
	b.WriteByte('?')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k + "=" + params.Get(k))
	}
	b.WriteString(secret)
	sum := md5.Sum([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// Authorize adds app_id, timestamp and sig to the form body.
func (a *MeituanAdapter) Authorize(_ context.Context, _ *http.Client, req *http.Request, call Call, c Credentials, now time.Time) error {
	form, err := url.ParseQuery(string(call.Body))
	if err != nil {
		return fmt.Errorf("meituan form: %w", err)
	}
	form.Set("app_id", c.ClientID)
	form.Set("timestamp", strconv.FormatInt(now.Unix(), 10))
	u := *req.URL
	u.RawQuery = ""
	form.Set("sig", MeituanSign(u.String(), form, c.ClientSecret))
	body := form.Encode()
	req.Body = readCloser(body)
	req.ContentLength = int64(len(body))
	req.GetBody = func() (io.ReadCloser, error) { return readCloser(body), nil }
	return nil
}

// CheckResponse turns Meituan's 200 {"data":"ng"} into an error.
func (a *MeituanAdapter) CheckResponse(body []byte) error {
	var r struct {
		Data  any `json:"data"`
		Error *struct {
			Code int    `json:"code"`
			Msg  string `json:"msg"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("meituan answer is not JSON: %.100s", body)
	}
	if r.Data == "ok" {
		return nil
	}
	if r.Error != nil {
		return fmt.Errorf("meituan refused: code=%d msg=%s", r.Error.Code, r.Error.Msg)
	}
	return errors.New("meituan refused without a reason")
}

// Verify: no Meituan receiver is built.
func (a *MeituanAdapter) Verify(http.Header, []byte, Credentials, time.Time) (string, error) {
	return "", fmt.Errorf("meituan webhooks are not supported: %w", ErrSignature)
}

// Events: no Meituan receiver is built.
func (a *MeituanAdapter) Events(http.Header, []byte) ([]Event, error) {
	return nil, errors.New("meituan webhooks are not supported")
}

func readCloser(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
