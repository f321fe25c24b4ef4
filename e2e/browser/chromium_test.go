// Package browser_test drives the pages in real headless Chromium over the
// DevTools protocol (a small client over gorilla/websocket): the pass board
// and the rider page must show kitchen events live. Screenshots go to
// $PASSLINE_ARTIFACTS/browser, default artifacts/browser at the repository
// root. The tests skip when Chromium is not installed (Debian:
// apt-get install -y chromium).
package browser_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// chromiumPath finds Chromium: $PASSLINE_CHROMIUM, then the usual names.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PASSLINE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("Chromium not installed (apt-get install -y chromium, or set PASSLINE_CHROMIUM): browser tests skipped")
	return ""
}

// browser is one headless Chromium process.
type browser struct {
	t    *testing.T
	port string
}

// startBrowser launches headless Chromium with a throwaway profile and
// remote debugging on a free loopback port; cleanup kills it.
func startBrowser(t *testing.T) *browser {
	t.Helper()
	bin := chromiumPath(t)
	profile, err := os.MkdirTemp("", "passline-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-dev-shm-usage", "--hide-scrollbars", "--force-color-profile=srgb",
		"--user-data-dir="+profile, "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
		"--window-size=1280,800", "about:blank")
	stderr, err := os.Create(filepath.Join(profile, "stderr.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = stderr, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its helpers die with it
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
		stderr.Close()
		for i := 0; i < 50 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond) // helpers still exiting
		}
	})
	portFile := filepath.Join(profile, "DevToolsActivePort")
	deadline := time.Now().Add(30 * time.Second)
	for {
		if b, err := os.ReadFile(portFile); err == nil {
			if port, _, ok := strings.Cut(string(b), "\n"); ok && port != "" {
				return &browser{t: t, port: port}
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(profile, "stderr.log"))
			t.Fatalf("chromium did not open its debugging port within 30s:\n%s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// page is one tab, driven over its own DevTools websocket. It is used
// from the test goroutine only.
type page struct {
	t  *testing.T
	ws *websocket.Conn
	id int
}

// open creates a tab showing pageURL.
func (b *browser) open(pageURL string) *page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPut, "http://127.0.0.1:"+b.port+"/json/new?"+url.QueryEscape(pageURL), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.t.Fatalf("open tab: %v", err)
	}
	defer resp.Body.Close()
	var target struct {
		WS string `json:"webSocketDebuggerUrl"`
	}
	if err := json.NewDecoder(bufio.NewReader(resp.Body)).Decode(&target); err != nil || target.WS == "" {
		b.t.Fatalf("open tab: %d %v", resp.StatusCode, err)
	}
	ws, _, err := websocket.DefaultDialer.Dial(target.WS, nil)
	if err != nil {
		b.t.Fatalf("dial devtools: %v", err)
	}
	b.t.Cleanup(func() { ws.Close() })
	return &page{t: b.t, ws: ws}
}

// call sends one DevTools command and decodes its result into out (may be
// nil), skipping the events that arrive meanwhile.
func (p *page) call(method string, params any, out any) error {
	p.id++
	if err := p.ws.WriteJSON(map[string]any{"id": p.id, "method": method, "params": params}); err != nil {
		return err
	}
	_ = p.ws.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		var msg struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if err := p.ws.ReadJSON(&msg); err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		if msg.ID != p.id {
			continue
		}
		if msg.Error != nil {
			return fmt.Errorf("%s: %s", method, msg.Error.Message)
		}
		if out == nil {
			return nil
		}
		return json.Unmarshal(msg.Result, out)
	}
}

// eval evaluates a JavaScript expression and returns its JSON value.
func (p *page) eval(expr string) json.RawMessage {
	p.t.Helper()
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		Exception *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := p.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res); err != nil {
		p.t.Fatal(err)
	}
	if res.Exception != nil {
		p.t.Fatalf("evaluate %s: %s", expr, res.Exception.Text)
	}
	return res.Result.Value
}

// waitFor polls a boolean expression every 25 ms until it is true and
// returns how long that took; it fails the test after timeout.
func (p *page) waitFor(timeout time.Duration, what, expr string) time.Duration {
	p.t.Helper()
	start := time.Now()
	check := "(() => { try { return Boolean(" + expr + ") } catch (e) { return false } })()" // not loaded yet
	for string(p.eval(check)) != "true" {
		if time.Since(start) > timeout {
			p.screenshot("timeout-" + strings.ReplaceAll(what, " ", "-"))
			p.t.Fatalf("page did not show %s within %s", what, timeout)
		}
		time.Sleep(25 * time.Millisecond)
	}
	return time.Since(start)
}

// viewport sets the page's size (a tablet, a phone).
func (p *page) viewport(w, h int, mobile bool) {
	p.t.Helper()
	if err := p.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": w, "height": h, "deviceScaleFactor": 1, "mobile": mobile}, nil); err != nil {
		p.t.Fatal(err)
	}
}

// screenshot saves a PNG of the page as an artifact and returns its path.
func (p *page) screenshot(name string) string {
	p.t.Helper()
	var res struct {
		Data string `json:"data"`
	}
	if err := p.call("Page.captureScreenshot", map[string]any{"format": "png"}, &res); err != nil {
		p.t.Errorf("screenshot %s: %v", name, err)
		return ""
	}
	b, err := base64.StdEncoding.DecodeString(res.Data)
	if err != nil {
		p.t.Fatal(err)
	}
	dir := os.Getenv("PASSLINE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "artifacts")
	}
	dir = filepath.Join(dir, "browser")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		p.t.Fatal(err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		p.t.Fatal(err)
	}
	p.t.Logf("screenshot %s", path)
	return path
}
