package platform

import (
	"context"
	"crypto/md5"
	"crypto/subtle"
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
// are not sent: no estimate field is known.
//
// Inbound, Meituan pushes (推送) form posts to the URLs the developer
// registers, one per push type, signed with the same sig rule over the
// URL Meituan called; Passline tells them apart by their params (see
// Events) and answers {"data":"ok"}. The push params are also unverified
// against Meituan's pages; cloud/platform/testdata/meituan names what each
// fixture rests on.
type MeituanAdapter struct{ platformName }

// NewMeituan returns the Meituan adapter.
func NewMeituan() *MeituanAdapter { return &MeituanAdapter{platformName{Meituan, meituanBaseURL}} }

const meituanBaseURL = "https://waimaiopen.meituan.com"

// MeituanMealCompletePath is the meal-ready report's path.
const MeituanMealCompletePath = "/api/v1/order/preparationMealComplete"

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

// Meituan's pushes (推送) Passline reads, and how fresh a push must be.
const (
	meituanPushMaxAge = 10 * time.Minute
	meituanLocale     = "zh-CN"
)

// Verify checks a push's sig (the MD5 rule of MeituanSign over the URL
// Meituan called and the form's params) and that its timestamp is within
// 10 minutes of now. A push names no delivery id; its sig, which covers
// the timestamp, is one.
func (a *MeituanAdapter) Verify(w Webhook, c Credentials, now time.Time) (string, error) {
	form, err := url.ParseQuery(string(w.Body))
	if err != nil {
		return "", fmt.Errorf("meituan push: %w", ErrSignature)
	}
	sig := form.Get("sig")
	if sig == "" || c.ClientSecret == "" || form.Get("app_id") != c.ClientID {
		return "", ErrSignature
	}
	want := MeituanSign(w.URL, form, c.ClientSecret)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(sig)), []byte(want)) != 1 {
		return "", ErrSignature
	}
	sec, err := strconv.ParseInt(form.Get("timestamp"), 10, 64)
	if d := now.Sub(time.Unix(sec, 0)); err != nil || d > meituanPushMaxAge || d < -meituanPushMaxAge {
		return "", fmt.Errorf("meituan push timestamp %q is not within %v of now: %w", form.Get("timestamp"), meituanPushMaxAge, ErrSignature)
	}
	return sig, nil
}

// Meituan delivery statuses (logistics_status) Passline applies: rider
// accepted, rider at the store, rider picked up.
var meituanCourier = map[string]EventType{
	"10": RiderAssigned,
	"15": RiderArrived,
	"20": PickedUp,
}

// Events decodes a push by its params: an order push (wm_order_id_view:
// placed, or accepted when status is 4, with the recipient's phone and the
// zh-CN locale), a delivery status push (logistics_status) or a
// cancellation push (reason_code). app_poi_code is the store.
func (a *MeituanAdapter) Events(w Webhook) ([]Event, error) {
	form, err := url.ParseQuery(string(w.Body))
	if err != nil {
		return nil, fmt.Errorf("meituan push: %w", err)
	}
	id := form.Get("order_id")
	if id == "" {
		return nil, errors.New("meituan push: no order_id")
	}
	ev := Event{PlatformID: id, StoreRef: form.Get("app_poi_code"), At: meituanTime(form, "ctime", "time", "timestamp")}
	switch {
	case form.Has("logistics_status"):
		t, ok := meituanCourier[form.Get("logistics_status")]
		if !ok {
			return nil, nil
		}
		ev.Type, ev.Rider = t, firstNonEmpty(form.Get("dispatcher_mobile"), id+"#rider")
		return linked(ev, form.Get("wm_order_id_view")), nil
	case form.Has("reason_code"):
		ev.Type = Cancelled
	case form.Has("wm_order_id_view"):
		ev.Type, ev.OrderCode = OrderPlaced, form.Get("wm_order_id_view")
		if form.Get("status") == "4" {
			ev.Type = OrderAccepted
		}
		ev.CustomerPhone, ev.Locale = form.Get("recipient_phone"), meituanLocale
	default:
		return nil, nil
	}
	return []Event{ev}, nil
}

// Ack is the body Meituan wants with a push's 200.
func (a *MeituanAdapter) Ack() []byte { return []byte(`{"data":"ok"}`) }

// meituanTime is the first of the named Unix-seconds params that is set.
func meituanTime(form url.Values, names ...string) time.Time {
	for _, n := range names {
		if sec, err := strconv.ParseInt(form.Get(n), 10, 64); err == nil && sec > 0 {
			return time.Unix(sec, 0).UTC()
		}
	}
	return time.Time{}
}

func readCloser(s string) io.ReadCloser { return io.NopCloser(strings.NewReader(s)) }
