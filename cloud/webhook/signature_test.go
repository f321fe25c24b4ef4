package webhook_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/passline/passline/cloud/webhook"
)

func signed(t *testing.T, body []byte, at time.Time) http.Header {
	t.Helper()
	key, err := webhook.DecodeSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	webhook.Sign(h, key, "msg_1", at, body)
	return h
}

// TestSignatureKnownVector checks the signature against the example of the
// Standard Webhooks specification, so other implementations interoperate.
func TestSignatureKnownVector(t *testing.T) {
	const spec = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"test": 2432232314}`)
	h := http.Header{}
	h.Set(webhook.HeaderID, "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set(webhook.HeaderTimestamp, "1614265330")
	h.Set(webhook.HeaderSignature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	if err := webhook.Verify(spec, h, body, time.Unix(1614265330, 0), 0); err != nil {
		t.Fatalf("spec vector: %v", err)
	}
	key, _ := webhook.DecodeSecret(spec)
	mine := http.Header{}
	webhook.Sign(mine, key, "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), body)
	if mine.Get(webhook.HeaderSignature) != h.Get(webhook.HeaderSignature) {
		t.Fatalf("Sign = %q, spec says %q", mine.Get(webhook.HeaderSignature), h.Get(webhook.HeaderSignature))
	}
}

func TestVerifyRejects(t *testing.T) {
	now := time.Now()
	body := []byte(`{"id":"d-1"}`)
	other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another-secret-of-32-bytes-long!"))
	tests := []struct {
		name   string
		secret string
		header func() http.Header
		body   []byte
	}{
		{"wrong secret", other, func() http.Header { return signed(t, body, now) }, body},
		{"tampered body", secret, func() http.Header { return signed(t, body, now) }, []byte(`{"id":"d-2"}`)},
		{"too old", secret, func() http.Header { return signed(t, body, now.Add(-10*time.Minute)) }, body},
		{"from the future", secret, func() http.Header { return signed(t, body, now.Add(10*time.Minute)) }, body},
		{"missing signature", secret, func() http.Header { h := signed(t, body, now); h.Del(webhook.HeaderSignature); return h }, body},
		{"changed id", secret, func() http.Header { h := signed(t, body, now); h.Set(webhook.HeaderID, "msg_2"); return h }, body},
		{"bad timestamp", secret, func() http.Header { h := signed(t, body, now); h.Set(webhook.HeaderTimestamp, "x"); return h }, body},
		{"v2 scheme", secret, func() http.Header {
			h := signed(t, body, now)
			h.Set(webhook.HeaderSignature, "v2,"+h.Get(webhook.HeaderSignature)[3:])
			return h
		}, body},
	}
	for _, tt := range tests {
		if err := webhook.Verify(tt.secret, tt.header(), tt.body, now, 0); !errors.Is(err, webhook.ErrSignature) {
			t.Errorf("%s: Verify = %v, want ErrSignature", tt.name, err)
		}
	}
	h := signed(t, body, now)
	h.Set(webhook.HeaderSignature, "v1,bm90LWl0 "+h.Get(webhook.HeaderSignature))
	if err := webhook.Verify(secret, h, body, now, 0); err != nil {
		t.Errorf("one good signature among several: %v", err)
	}
}

// FuzzVerify feeds outside bytes (headers, body) to Verify: it must never
// panic and never accept a body it did not sign.
func FuzzVerify(f *testing.F) {
	f.Add("msg_1", "1700000000", "v1,abc", []byte(`{}`))
	f.Add("", "", "", []byte(nil))
	f.Add("m", "-99999999999999999999", "v1, v1,,", []byte("x"))
	key, _ := webhook.DecodeSecret(secret)
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(webhook.HeaderID, id)
		h.Set(webhook.HeaderTimestamp, ts)
		h.Set(webhook.HeaderSignature, sig)
		if err := webhook.Verify(secret, h, body, time.Unix(1700000000, 0), 0); err == nil {
			good := http.Header{}
			webhook.Sign(good, key, h.Get(webhook.HeaderID), time.Unix(1700000000, 0), body)
			t.Fatalf("accepted a forged signature %q for id %q ts %q", sig, id, ts)
		}
	})
}

// FuzzDecodeEvent: a receiver's decoder of outside bytes never panics.
func FuzzDecodeEvent(f *testing.F) {
	f.Add([]byte(`{"specversion":"1.0","id":"d","source":"s","type":"com.passline.rider.ready","data":{}}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _, _ = webhook.DecodeEvent(b)
	})
}

func TestNewSecretRoundTrip(t *testing.T) {
	s, err := webhook.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	key, err := webhook.DecodeSecret(s)
	if err != nil || len(key) != 32 {
		t.Fatalf("DecodeSecret(%q) = %d bytes, %v", s, len(key), err)
	}
	h, body, now := http.Header{}, []byte("{}"), time.Now()
	webhook.Sign(h, key, "msg_1", now, body)
	if err := webhook.Verify(s, h, body, now, 0); err != nil {
		t.Fatal(err)
	}
}
