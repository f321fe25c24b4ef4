package webhook_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/passline/passline/cloud/webhook"
)

// A receiver checks the signature on the raw body before trusting it, then
// decodes the CloudEvent and drops duplicates by its id (the decision id).
func ExampleVerify() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	handler := func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, "read", http.StatusBadRequest)
			return
		}
		if err := webhook.Verify(secret, r.Header, body, time.Now(), 0); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized) // permanent for the sender
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}

	key, _ := webhook.DecodeSecret(secret)
	body := `{"specversion":"1.0","id":"d-1"}`
	req := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
	webhook.Sign(req.Header, key, "d-1", time.Now(), []byte(body))
	rec := httptest.NewRecorder()
	handler(rec, req)
	fmt.Println("signed:", rec.Code)

	req = httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body+" "))
	webhook.Sign(req.Header, key, "d-1", time.Now(), []byte(body))
	rec = httptest.NewRecorder()
	handler(rec, req)
	fmt.Println("tampered:", rec.Code)
	// Output:
	// signed: 204
	// tampered: 401
}
