package phrase_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passline/passline/cloud"
	"github.com/passline/passline/cloud/breaker"
	"github.com/passline/passline/cloud/phrase"
	"github.com/passline/passline/wire"
	"github.com/prometheus/client_golang/prometheus"
)

const fallbackText = "Order #23: ready in about 4 min, shelf B3"

func facts(locale string) cloud.Facts {
	m := 4
	return cloud.Facts{Kind: wire.KindReadySoon, ShortCode: "#23", StoreName: "Noodle Bar", Minutes: &m, Shelf: "B3", Locale: locale, Tone: "friendly"}
}

func config(url string) phrase.Config {
	cfg := phrase.DefaultConfig()
	cfg.Enabled, cfg.BaseURL, cfg.Model, cfg.APIKey = true, url, "glm-test", "sk-test"
	cfg.Budget = 300 * time.Millisecond
	return cfg
}

func newPhraser(t *testing.T, cfg phrase.Config, now func() time.Time) (*phrase.Phraser, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	p, err := phrase.NewModel(cfg, reg, phrase.Options{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return p, reg
}

// phraseOnTime calls Phrase and fails the test when it does not return
// within the budget plus a generous allowance for a loaded machine.
func phraseOnTime(t *testing.T, p cloud.Phraser, ctx context.Context, f cloud.Facts) (string, bool) {
	t.Helper()
	type result struct {
		text string
		ok   bool
	}
	ch := make(chan result, 1)
	go func() {
		text, ok := p.Phrase(ctx, f, fallbackText)
		ch <- result{text, ok}
	}()
	select {
	case r := <-ch:
		return r.text, r.ok
	case <-time.After(5 * time.Second):
		t.Fatal("Phrase did not return within its 300 ms budget (+5 s allowance)")
		return "", false
	}
}

func TestScriptedEndpoint(t *testing.T) {
	good := "Hi! Order #23 from Noodle Bar is ready in about 4 minutes, shelf B3."
	goodZH := "您好，Noodle Bar 的订单 #23 大约 4 分钟后出餐，请到 B3 取餐。"
	tests := []struct {
		name     string
		locale   string
		answer   answer
		wantOK   bool
		wantText string
		reason   string // verify failure reason, or call outcome when the call failed
	}{
		{"good en", "en", answer{content: good}, true, good, ""},
		{"good zh", "zh-CN", answer{content: goodZH}, true, goodZH, ""},
		{"quoted answer is unquoted", "en", answer{content: `"` + good + `"`}, true, good, ""},
		{"slow", "en", answer{content: good, delay: 10 * time.Second}, false, fallbackText, "timeout"},
		{"500", "en", answer{status: 500, raw: `{"error":"overloaded"}`}, false, fallbackText, "http_error"},
		{"malformed json", "en", answer{raw: `{"choices":[{"message":`}, false, fallbackText, "malformed"},
		{"no choices", "en", answer{raw: `{"choices":[]}`}, false, fallbackText, "malformed"},
		{"invented minutes", "en", answer{content: "Order #23 is ready in 4-6 minutes at shelf B3."}, false, fallbackText, "invented_number"},
		{"invented clock time", "en", answer{content: "Order #23 ready at 12:30, in 4 minutes, shelf B3."}, false, fallbackText, "invented_number"},
		{"invented number word", "en", answer{content: "Order #23 ready in 4 minutes, five orders ahead, shelf B3."}, false, fallbackText, "invented_number"},
		{"invented time word", "en", answer{content: "Order #23 ready in 4 minutes, shelf B3, open until midnight."}, false, fallbackText, "invented_time"},
		{"invented zh time", "zh-CN", answer{content: "订单 #23 大约 4 分钟后出餐，B3 取餐，三分钟内请到。"}, false, fallbackText, "invented_number"},
		{"other order code", "en", answer{content: "Order #23 ready in 4 minutes at shelf B3, after #A."}, false, fallbackText, "invented_code"},
		{"missing shelf", "en", answer{content: "Order #23 is ready in about 4 minutes."}, false, fallbackText, "missing_slot"},
		{"code changed", "en", answer{content: "Order 23 is ready in about 4 minutes at shelf B3."}, false, fallbackText, "missing_slot"},
		{"english for zh-CN", "zh-CN", answer{content: good}, false, fallbackText, "language"},
		{"chinese for en", "en", answer{content: goodZH}, false, fallbackText, "language"},
		{"too long", "en", answer{content: good + " Thank you so much for riding with us today, have a wonderful and safe trip back."}, false, fallbackText, "too_long"},
		{"deny list", "en", answer{content: "Order #23 ready in 4 minutes, shelf B3. Refund at www.x.cn"}, false, fallbackText, "deny_list"},
		{"two lines", "en", answer{content: "Order #23 ready\nin 4 minutes, shelf B3"}, false, fallbackText, "format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newModelServer(t, func(string, string) answer { return tt.answer })
			p, reg := newPhraser(t, config(srv.URL), nil)
			f := facts(tt.locale)
			text, ok := phraseOnTime(t, p, context.Background(), f)
			if ok != tt.wantOK || text != tt.wantText {
				t.Fatalf("Phrase = %q, %v; want %q, %v", text, ok, tt.wantText, tt.wantOK)
			}
			if ok {
				if err := phrase.Verify(f, text, phrase.Limits{MaxChars: 120, MaxSMSSegments: 1}); err != nil {
					t.Fatalf("returned an unverified text: %v", err)
				}
				return
			}
			verifyFails := metric(t, reg, "passline_cloud_phrase_verify_failures_total", tt.reason)
			callFails := metric(t, reg, "passline_cloud_phrase_calls_total", tt.reason)
			if verifyFails+callFails != 1 {
				t.Fatalf("reason %q counted %v (verify) + %v (calls), want 1", tt.reason, verifyFails, callFails)
			}
			if metric(t, reg, "passline_cloud_phrase_call_seconds", "") != 1 {
				t.Fatal("call latency not observed")
			}
		})
	}
}

func TestOffNeverConnects(t *testing.T) {
	srv := newModelServer(t, says("Order #23 ready in about 4 minutes, shelf B3."))
	cfg := config(srv.URL)
	cfg.Enabled = false
	p, err := phrase.New(cfg, prometheus.NewRegistry(), phrase.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		f := facts("en")
		f.ShortCode = fmt.Sprint("#", i)
		if text, ok := p.Phrase(context.Background(), f, fallbackText); ok || text != fallbackText {
			t.Fatalf("disabled phraser returned %q, %v", text, ok)
		}
	}
	if n := srv.conns.Load(); n != 0 {
		t.Fatalf("disabled phraser opened %d connections", n)
	}
	// The counter works: the same endpoint, enabled, is connected to.
	cfg.Enabled = true
	on, err := phrase.New(cfg, prometheus.NewRegistry(), phrase.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := on.Phrase(context.Background(), facts("en"), fallbackText); !ok || srv.conns.Load() == 0 {
		t.Fatalf("enabled phraser: ok=%v, connections %d", ok, srv.conns.Load())
	}
}

func TestBreakerOpensAndCloses(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)}
	srv := newModelServer(t, func(string, string) answer { return answer{status: 503, raw: "busy"} })
	cfg := config(srv.URL)
	cfg.Breaker = breaker.Config{Failures: 3, CoolDown: 30 * time.Second}
	p, reg := newPhraser(t, cfg, clk.Now)
	for range 3 {
		if _, ok := phraseOnTime(t, p, context.Background(), facts("en")); ok {
			t.Fatal("503 gave model text")
		}
	}
	if p.Breaker().State() != breaker.Open || metric(t, reg, "passline_cloud_phrase_breaker_state", "") != 1 {
		t.Fatalf("breaker %v after 3 failures, want open (gauge 1)", p.Breaker().State())
	}
	text, ok := phraseOnTime(t, p, context.Background(), facts("en"))
	if ok || text != fallbackText || srv.requests.Load() != 3 {
		t.Fatalf("open breaker: %q %v, %d requests; want fallback and still 3", text, ok, srv.requests.Load())
	}
	if metric(t, reg, "passline_cloud_phrase_fallbacks_total", "breaker_open") != 1 {
		t.Fatal("breaker_open fallback not counted")
	}
	srv.setScript(says("Order #23 is ready in about 4 minutes at shelf B3."))
	clk.Add(31 * time.Second)
	if _, ok := phraseOnTime(t, p, context.Background(), facts("en")); !ok {
		t.Fatal("recovered endpoint after cool-down: still fallback")
	}
	if p.Breaker().State() != breaker.Closed {
		t.Fatalf("breaker %v after recovery, want closed", p.Breaker().State())
	}
}

func TestDailyBudget(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 24, 23, 0, 0, 0, time.UTC)}
	srv := newModelServer(t, says("Order #23 is ready in about 4 minutes at shelf B3."))
	cfg := config(srv.URL)
	cfg.DailyCalls = 3
	p, reg := newPhraser(t, cfg, clk.Now)
	call := func(merchant string, i int) bool {
		f := facts("en")
		f.Tone = fmt.Sprint("tone-", merchant, i) // a new situation each time: no cache hit
		_, ok := phraseOnTime(t, p, phrase.WithMerchant(context.Background(), merchant), f)
		return ok
	}
	for i := range 5 {
		if got, want := call("m1", i), i < 3; got != want {
			t.Fatalf("call %d of m1: ok=%v, want %v", i, got, want)
		}
	}
	if srv.requests.Load() != 3 || metric(t, reg, "passline_cloud_phrase_fallbacks_total", "daily_budget") != 2 {
		t.Fatalf("%d model requests, want 3 (budget) and 2 budget fallbacks", srv.requests.Load())
	}
	if !call("m2", 0) {
		t.Fatal("another merchant's budget was spent by m1")
	}
	clk.Add(time.Hour) // next UTC day
	if !call("m1", 9) {
		t.Fatal("budget not renewed the next day")
	}
}

func TestCacheServesSameSituation(t *testing.T) {
	srv := newModelServer(t, func(system, _ string) answer {
		return answer{content: "Order #23 is ready in about 4 minutes at shelf B3."}
	})
	p, reg := newPhraser(t, config(srv.URL), nil)
	if _, ok := p.Phrase(context.Background(), facts("en"), fallbackText); !ok {
		t.Fatal("first call: fallback")
	}
	f := facts("en")
	six := 6
	f.ShortCode, f.Minutes, f.Shelf = "#57", &six, "A1"
	text, ok := p.Phrase(context.Background(), f, "fallback")
	if !ok || text != "Order #57 is ready in about 6 minutes at shelf A1." {
		t.Fatalf("second order, same situation: %q %v", text, ok)
	}
	if srv.requests.Load() != 1 || metric(t, reg, "passline_cloud_phrase_cache_hits_total", "") != 1 {
		t.Fatalf("%d model requests, want 1 and one cache hit", srv.requests.Load())
	}
	f.Kind = wire.KindDelayed // a different situation calls the model
	p.Phrase(context.Background(), f, "fallback")
	if srv.requests.Load() != 2 {
		t.Fatalf("a different kind was served from cache")
	}
}

func TestCallerDeadlineShorterThanBudget(t *testing.T) {
	srv := newModelServer(t, func(string, string) answer { return answer{content: "x", delay: 10 * time.Second} })
	cfg := config(srv.URL)
	cfg.Budget = 5 * time.Second
	p, _ := newPhraser(t, cfg, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if text, ok := phraseOnTime(t, p, ctx, facts("en")); ok || text != fallbackText {
		t.Fatalf("Phrase = %q, %v", text, ok)
	}
}

func TestUnsupportedLocaleMakesNoCall(t *testing.T) {
	srv := newModelServer(t, says("x"))
	p, reg := newPhraser(t, config(srv.URL), nil)
	if _, ok := p.Phrase(context.Background(), facts("fr"), fallbackText); ok || srv.requests.Load() != 0 {
		t.Fatal("called the model for an unsupported locale")
	}
	if metric(t, reg, "passline_cloud_phrase_fallbacks_total", "locale") != 1 {
		t.Fatal("locale fallback not counted")
	}
}

func TestConcurrentSameSituationShareOneCall(t *testing.T) {
	srv := newModelServer(t, func(system, _ string) answer {
		code := codeInPrompt.FindStringSubmatch(system)[1]
		return answer{content: "Order #" + code + " is ready in about 4 minutes at shelf B3.", delay: 100 * time.Millisecond}
	})
	cfg := config(srv.URL)
	cfg.Budget = 3 * time.Second
	p, _ := newPhraser(t, cfg, nil)
	const n = 8
	texts := make([]string, n)
	oks := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := facts("en")
			f.ShortCode = fmt.Sprint("#", 100+i)
			texts[i], oks[i] = p.Phrase(context.Background(), f, "fallback")
		}()
	}
	wg.Wait()
	for i := range n {
		want := fmt.Sprintf("Order #%d is ready in about 4 minutes at shelf B3.", 100+i)
		if !oks[i] || texts[i] != want {
			t.Errorf("caller %d: %q %v, want %q", i, texts[i], oks[i], want)
		}
	}
	if got := srv.requests.Load(); got != 1 {
		t.Fatalf("%d model calls for one situation, want 1", got)
	}
}

func TestReadyIgnoresCountdown(t *testing.T) {
	srv := newModelServer(t, func(system, _ string) answer {
		if strings.Contains(system, "minutes") {
			t.Errorf("ready prompt asks for minutes: %s", system)
		}
		return answer{content: "Order #23 is ready at shelf B3, 0 minutes."}
	})
	p, _ := newPhraser(t, config(srv.URL), nil)
	f := facts("en")
	f.Kind = wire.KindReady
	zero := 0
	f.Minutes = &zero
	if text, ok := p.Phrase(context.Background(), f, fallbackText); ok {
		t.Fatalf("a countdown in a ready text was used: %q", text)
	}
	srv.setScript(says("Order #23 is ready at shelf B3."))
	f.Tone = "brisk" // new situation
	if text, ok := p.Phrase(context.Background(), f, fallbackText); !ok || text != "Order #23 is ready at shelf B3." {
		t.Fatalf("ready text without minutes: %q %v", text, ok)
	}
}
