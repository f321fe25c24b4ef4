package phrase_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/phrase"
	"github.com/passline/passline/cloud/webhook"
	"github.com/passline/passline/wire"
)

var codeInPrompt = regexp.MustCompile(`order code "#(\d+)"`)

// mixedScript answers by the order number in the prompt: good, slow, 500,
// malformed, invented number, wrong language, in turn.
func mixedScript(system, _ string) answer {
	m := codeInPrompt.FindStringSubmatch(system)
	i, _ := strconv.Atoi(m[1])
	switch i % 6 {
	case 0:
		return answer{content: fmt.Sprintf("Order #%d is ready in about 4 minutes at shelf B3.", i)}
	case 1:
		return answer{content: "late", delay: 10 * time.Second}
	case 2:
		return answer{status: 500}
	case 3:
		return answer{raw: `{"choices":[{"message":{"content":`}
	case 4:
		return answer{content: fmt.Sprintf("Order #%d is ready at 12:45, in 4 minutes, shelf B3.", i)}
	}
	return answer{content: fmt.Sprintf("订单 #%d 大约 4 分钟后在 B3 取餐。", i)}
}

// TestRiderMessagesOnTime runs rider messages through the phraser and a
// webhook channel while the model answers well, slowly, with 500s,
// malformed JSON, invented numbers and the wrong language: every message
// reaches the receiver within its delivery deadline, and its text is the
// template or a verified model text, never anything else.
func TestRiderMessagesOnTime(t *testing.T) {
	const messages = 36
	model := newModelServer(t, mixedScript)
	cfg := config(model.URL)
	cfg.Budget = 200 * time.Millisecond
	cfg.Breaker.Failures = 1000 // this test is about time and truth, not the breaker
	p, reg := newPhraser(t, cfg, nil)

	var mu sync.Mutex
	got := map[string]string{}
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhook.Verify(secret, r.Header, body, time.Now(), 0); err != nil {
			t.Errorf("receiver: %v", err)
		}
		_, n, err := webhook.DecodeEvent(body)
		if err != nil {
			t.Errorf("receiver: %v", err)
		}
		mu.Lock()
		got[n.OrderID] = n.Text
		mu.Unlock()
	}))
	t.Cleanup(rcv.Close)
	ch, err := webhook.New(webhook.DefaultConfig(), webhook.Endpoint{Name: "rider-app", URL: rcv.URL, Secret: secret}, webhook.Options{Client: rcv.Client()}) // the test receiver is on loopback
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	sem := make(chan struct{}, 6)
	for i := range messages {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			f := facts("en")
			f.ShortCode, f.Tone = fmt.Sprint("#", i), fmt.Sprint("tone-", i) // no cache hits
			fallback := fmt.Sprintf("Order #%d: ready in about 4 min, shelf B3", i)
			ctx, cancel := context.WithTimeout(context.Background(), cfg.Budget+5*time.Second)
			defer cancel()
			text, _ := p.Phrase(ctx, f, fallback)
			n := wire.Notification{ID: fmt.Sprint("d-", i), Rider: "r1", Store: "s1", OrderID: fmt.Sprint("o-", i),
				Kind: f.Kind, Text: text, DecidedAt: time.Now(), SentAt: time.Now()}
			if err := ch.Deliver(ctx, n); err != nil {
				t.Errorf("message %d not delivered within its deadline: %v", i, err)
			}
		}()
	}
	wg.Wait()

	verified := 0
	for i := range messages {
		text, ok := got[fmt.Sprint("o-", i)]
		f := facts("en")
		f.ShortCode = fmt.Sprint("#", i)
		switch {
		case !ok:
			t.Errorf("message %d never reached the receiver", i)
		case text == fmt.Sprintf("Order #%d: ready in about 4 min, shelf B3", i):
			if i%6 == 0 {
				t.Errorf("message %d: good model answer not used", i)
			}
		case phrase.Verify(f, text, phrase.Limits{MaxChars: cfg.MaxChars, MaxSMSSegments: cfg.MaxSMSSegments}) == nil && i%6 == 0:
			verified++
		default:
			t.Errorf("message %d carried an unverified text %q", i, text)
		}
	}
	if verified != messages/6 {
		t.Errorf("%d verified model texts, want %d", verified, messages/6)
	}
	for _, c := range []struct{ name, label string }{
		{"passline_cloud_phrase_calls_total", "timeout"}, {"passline_cloud_phrase_calls_total", "http_error"},
		{"passline_cloud_phrase_calls_total", "malformed"}, {"passline_cloud_phrase_verify_failures_total", "invented_number"},
		{"passline_cloud_phrase_verify_failures_total", "language"}, {"passline_cloud_phrase_fallbacks_total", "call_failed"},
	} {
		if metric(t, reg, c.name, c.label) == 0 {
			t.Errorf("%s{%s} not counted", c.name, c.label)
		}
	}
	var _ cloud.Channel = ch
}
