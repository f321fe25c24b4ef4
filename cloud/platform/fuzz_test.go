package platform_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/passline/passline/cloud/platform"
)

// FuzzWebhookBodies feeds every platform's webhook decoder and signature
// check arbitrary bodies, seeded with the fixtures: none may panic, and a
// body that decodes yields events with a platform order id.
func FuzzWebhookBodies(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.*")
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	inbound := []platform.Inbound{platform.NewDeliveroo(), platform.NewUberEats(), platform.NewDoorDash(), platform.NewOpenDelivery(), platform.NewMeituan()}
	cred := platform.Credentials{WebhookSecret: "w", ClientSecret: "c"}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, in := range inbound {
			_, _ = in.Verify(platform.Webhook{Header: http.Header{"Authorization": {"w"}}, Body: body, URL: "https://cloud/x"}, cred, time.Now())
			events, err := in.Events(platform.Webhook{Header: http.Header{}, Body: body})
			if err != nil {
				continue
			}
			for _, ev := range events {
				if ev.PlatformID == "" {
					t.Fatalf("%s: event without a platform order id from %q", in.Platform(), body)
				}
			}
		}
	})
}
