package platformtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// UberEats fakes the Uber Eats Order API
// (cloud/platform/testdata/ubereats): the token endpoint (client id and
// secret in the form, scope eats.order), POST
// /v1/delivery/order/{order_id}/ready with {} and POST
// .../update-ready-time with a future ready_for_pickup_time. An
// update-ready-time after the order's ready answers 400, as Uber does once
// the order is READY_TO_HANDOFF. GET /v2/eats/order/{order_id} answers the
// order as https://developer.uber.com/docs/eats/references/api/v2/get-eats-order-orderid
// shows it: display_id is the id's last five characters in upper case (as
// in Uber's example, f9f3...5bc953 → BC953) and the eater's phone is
// UberEaterPhone.
func UberEats(t *testing.T, clientID, secret, token string) *Fake {
	ready := map[string]bool{}
	var f *Fake
	f = New(t, OAuthToken(t, clientID, secret, false, "eats.order", token), map[string]Route{
		"POST /v1/delivery/order/{order_id}/ready": func(r *http.Request, body []byte) (int, string, string) {
			if !BearerIs(r, token) {
				return 401, `{"code":"unauthorized","message":"invalid token"}`, "bad bearer token"
			}
			var empty struct{}
			if err := StrictJSON(body, &empty); err != nil {
				return 400, `{"code":"bad_request","message":"body must be {}"}`, "body: " + err.Error()
			}
			f.mu.Lock()
			ready[r.PathValue("order_id")] = true
			f.mu.Unlock()
			return 200, `{"status":"ok"}`, ""
		},
		"GET /v2/eats/order/{order_id}": func(r *http.Request, _ []byte) (int, string, string) {
			if !BearerIs(r, token) {
				return 401, `{"code":"unauthorized","message":"invalid token"}`, "bad bearer token"
			}
			id := r.PathValue("order_id")
			b, _ := json.Marshal(map[string]any{"id": id, "display_id": strings.ToUpper(id[max(len(id)-5, 0):]),
				"current_state": "CREATED", "store": map[string]string{"id": "uber-store-77"},
				"eater": map[string]string{"first_name": "Kim", "phone": UberEaterPhone, "phone_code": "555 55"}})
			return 200, string(b), ""
		},
		"POST /v1/delivery/order/{order_id}/update-ready-time": func(r *http.Request, body []byte) (int, string, string) {
			if !BearerIs(r, token) {
				return 401, `{"code":"unauthorized","message":"invalid token"}`, "bad bearer token"
			}
			var req struct {
				ReadyForPickupTime string `json:"ready_for_pickup_time"`
			}
			if err := StrictJSON(body, &req); err != nil {
				return 400, `{"code":"bad_request","message":"bad body"}`, "body: " + err.Error()
			}
			at, err := time.Parse(time.RFC3339, req.ReadyForPickupTime)
			if err != nil || !at.After(time.Now()) {
				return 400, `{"code":"bad_request","message":"ready_for_pickup_time must be a future RFC 3339 time"}`, "time " + req.ReadyForPickupTime
			}
			f.mu.Lock()
			done := ready[r.PathValue("order_id")]
			f.mu.Unlock()
			if done {
				return 400, `{"code":"bad_request","message":"order cannot adjust ready for pickup time"}`, ""
			}
			return 200, `{}`, ""
		},
	})
	return f
}

// UberEaterPhone is the eater's phone on every order the UberEats fake
// answers.
const UberEaterPhone = "+15555550123"

// DoorDash fakes the Marketplace order events endpoint
// (cloud/platform/testdata/doordash): PATCH
// /marketplace/api/v1/orders/{id}/events/order_ready_for_pickup with
// {"merchant_supplied_id"}, checking the JWT as DoorDash describes it:
// header alg HS256, typ JWT, dd-ver DD-JWT-V1; claims aud "doordash", iss
// the developer id, kid the key id, iat not in the future, exp at most 30
// minutes after iat; HMAC-SHA256 with the base64url-decoded signing secret;
// and the auth-version: v2 header.
func DoorDash(t *testing.T, developerID, keyID, signingSecret string) *Fake {
	key, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(signingSecret, "="))
	if err != nil {
		t.Fatal(err)
	}
	return New(t, nil, map[string]Route{
		"PATCH /marketplace/api/v1/orders/{id}/events/order_ready_for_pickup": func(r *http.Request, body []byte) (int, string, string) {
			if reason := checkDoorDashJWT(r, developerID, keyID, key); reason != "" {
				return 401, `{"code":"authentication_error","message":"` + reason + `"}`, reason
			}
			var req struct {
				MerchantSuppliedID string `json:"merchant_supplied_id"`
			}
			if err := StrictJSON(body, &req); err != nil || req.MerchantSuppliedID == "" {
				return 400, `{"code":"validation_error","message":"merchant_supplied_id required"}`, "body"
			}
			return 200, `{}`, ""
		},
	})
}

func checkDoorDashJWT(r *http.Request, developerID, keyID string, key []byte) string {
	if r.Header.Get("auth-version") != "v2" {
		return "auth-version must be v2"
	}
	raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "no bearer token"
	}
	claims := jwt.MapClaims{}
	tok, err := jwt.ParseWithClaims(raw, claims, func(tok *jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithAudience("doordash"), jwt.WithIssuer(developerID), jwt.WithIssuedAt())
	if err != nil {
		return "jwt: " + err.Error()
	}
	if tok.Header["dd-ver"] != "DD-JWT-V1" || tok.Header["typ"] != "JWT" {
		return "jwt header must carry typ JWT and dd-ver DD-JWT-V1"
	}
	if claims["kid"] != keyID {
		return "jwt kid is not the key id"
	}
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	if iat == nil || exp == nil || exp.Sub(iat.Time) > 30*time.Minute {
		return "jwt exp must be at most 30 minutes after iat"
	}
	return ""
}

// Meituan fakes the meal-ready report (cloud/platform/testdata/meituan):
// POST /api/v1/order/preparationMealComplete, form app_id, timestamp
// (within 10 minutes), order_id and sig = md5(URL?sorted params + secret).
// A bad sig answers 200 {"data":"ng","error":{"code":703,...}} as Meituan
// reports errors in a 200 body.
func Meituan(t *testing.T, appID, secret string) *Fake {
	var f *Fake
	f = New(t, nil, map[string]Route{
		"POST /api/v1/order/preparationMealComplete": func(r *http.Request, body []byte) (int, string, string) {
			form, err := url.ParseQuery(string(body))
			if err != nil {
				return 200, `{"data":"ng","error":{"code":700,"msg":"bad form"}}`, "form"
			}
			u := f.URL() + r.URL.Path
			if form.Get("app_id") != appID || form.Get("sig") != meituanSig(u, form, secret) {
				return 200, `{"data":"ng","error":{"code":703,"msg":"签名错误"}}`, "bad sig"
			}
			sec, err := strconv.ParseInt(form.Get("timestamp"), 10, 64)
			if d := time.Since(time.Unix(sec, 0)); err != nil || d > 10*time.Minute || d < -10*time.Minute {
				return 200, `{"data":"ng","error":{"code":701,"msg":"timestamp expired"}}`, "timestamp"
			}
			if form.Get("order_id") == "" {
				return 200, `{"data":"ng","error":{"code":702,"msg":"order_id missing"}}`, "order_id"
			}
			return 200, `{"data":"ok"}`, ""
		},
	})
	return f
}

func meituanSig(u string, form url.Values, secret string) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		if k != "sig" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + form.Get(k)
	}
	sum := md5.Sum([]byte(u + "?" + strings.Join(parts, "&") + secret))
	return hex.EncodeToString(sum[:])
}

// OpenDelivery fakes an Open Delivery order API
// (cloud/platform/testdata/opendelivery): client credentials at
// /oauth/token (form, scope od.all) and POST
// /v1/orders/{orderId}/readyForPickup answered 202, checking the bearer
// token and X-App-Signature as Keeta's Signature Calculation page gives it
// (https://api-docs.mykeeta.com/en/apis/opendelivery/signature-calculation):
// Base64 HMAC-SHA256 of the URL without query [& sorted query] [& body],
// here keyed with the client secret.
func OpenDelivery(t *testing.T, clientID, secret, token string) *Fake {
	var f *Fake
	f = New(t, OAuthToken(t, clientID, secret, false, "od.all", token), map[string]Route{
		"POST /v1/orders/{orderId}/readyForPickup": func(r *http.Request, body []byte) (int, string, string) {
			if !BearerIs(r, token) {
				return 401, `{"title":"Unauthorized","status":401}`, "bad bearer token"
			}
			m := hmac.New(sha256.New, []byte(secret))
			m.Write([]byte(f.URL() + r.URL.Path)) // no query, no body: the URL alone
			if len(r.URL.RawQuery) > 0 || len(bytes.TrimSpace(body)) > 0 {
				return 400, `{"title":"readyForPickup takes no query and no body","status":400}`, "query or body"
			}
			if r.Header.Get("X-App-Signature") != base64.StdEncoding.EncodeToString(m.Sum(nil)) {
				return 401, `{"title":"Invalid signature","status":401}`, "bad X-App-Signature"
			}
			return 202, "", ""
		},
	})
	return f
}
