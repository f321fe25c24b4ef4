package passboard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/passline/passline/agent/passboard"
)

// fakeSource returns whatever board was set last.
type fakeSource struct {
	mu  sync.Mutex
	b   passboard.Board
	err error
}

func (f *fakeSource) set(b passboard.Board, err error) {
	f.mu.Lock()
	f.b, f.err = b, err
	f.mu.Unlock()
}

func (f *fakeSource) Board(context.Context) (passboard.Board, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.b
	b.Now = time.Now() // changes every poll, as a real board does
	return b, f.err
}

func serve(t *testing.T, src passboard.Source) *httptest.Server {
	t.Helper()
	h := &passboard.Handler{Source: src, Interval: 20 * time.Millisecond, KeepAlive: time.Hour}
	mux := http.NewServeMux()
	mux.Handle("/board/", http.StripPrefix("/board", h))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func board(codes ...string) passboard.Board {
	var os []passboard.Order
	for _, c := range codes {
		os = append(os, passboard.Order{ID: "o" + c, ShortCode: c, Status: "started", Items: 1})
	}
	return passboard.Board{Store: "s1", Stations: []passboard.Station{{Name: "wok", Orders: os}}}
}

func TestPageAndAssetsAreEmbedded(t *testing.T) {
	srv := serve(t, &fakeSource{b: board()})
	for path, want := range map[string]string{
		"/board/":          `<script src="board.js">`,
		"/board/board.js":  `new EventSource("events")`,
		"/board/board.css": `.card`,
		// The charting library comes from the binary too (internal/uplot).
		"/board/uplot/chart.js":      `window.PasslineChart`,
		"/board/uplot/uPlot.min.css": `.uplot`,
	} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s = %d, body lacks %q", path, resp.StatusCode, want)
		}
		if strings.Contains(string(b), "http://") || strings.Contains(string(b), "https://") {
			t.Errorf("GET %s refers to an external asset", path)
		}
	}
}

func TestSnapshotJSON(t *testing.T) {
	src := &fakeSource{b: board("#1")}
	srv := serve(t, src)
	resp, err := http.Get(srv.URL + "/board/board.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b passboard.Board
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil {
		t.Fatal(err)
	}
	if b.Store != "s1" || len(b.Stations) != 1 || b.Stations[0].Orders[0].ShortCode != "#1" {
		t.Fatalf("board = %+v", b)
	}
	src.set(passboard.Board{}, errors.New("state db closed"))
	resp2, err := http.Get(srv.URL + "/board/board.json")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("failing source: status %d, want 503", resp2.StatusCode)
	}
}

// events reads SSE events (name, data) from the stream into a channel.
func events(t *testing.T, url string) <-chan [2]string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	ch := make(chan [2]string, 64)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		var name string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ch <- [2]string{name, strings.TrimPrefix(line, "data: ")}
			}
		}
	}()
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	return ch
}

func next(t *testing.T, ch <-chan [2]string) (string, passboard.Board) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("stream closed")
		}
		var b passboard.Board
		if ev[0] == "board" {
			if err := json.Unmarshal([]byte(ev[1]), &b); err != nil {
				t.Fatal(err)
			}
		}
		return ev[0], b
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return "", passboard.Board{}
}

func TestEventsStreamChangesOnly(t *testing.T) {
	src := &fakeSource{b: board("#1")}
	srv := serve(t, src)
	ch := events(t, srv.URL+"/board/events")
	if name, b := next(t, ch); name != "board" || len(b.Stations[0].Orders) != 1 {
		t.Fatalf("first event %q %+v", name, b)
	}
	// Unchanged boards (only the clock moves) are not resent.
	select {
	case ev := <-ch:
		t.Fatalf("unchanged board resent: %v", ev)
	case <-time.After(200 * time.Millisecond):
	}
	src.set(board("#1", "#2"), nil)
	if name, b := next(t, ch); name != "board" || len(b.Stations[0].Orders) != 2 {
		t.Fatalf("after a new order: %q %+v", name, b)
	}
	src.set(passboard.Board{}, errors.New("disk gone"))
	if name, _ := next(t, ch); name != "problem" {
		t.Fatalf("failing source: event %q, want problem", name)
	}
	select { // the same problem is not repeated every poll
	case ev := <-ch:
		t.Fatalf("problem repeated: %v", ev)
	case <-time.After(200 * time.Millisecond):
	}
	src.set(board("#1", "#2"), nil)
	if name, b := next(t, ch); name != "board" || len(b.Stations[0].Orders) != 2 {
		t.Fatalf("after recovery: %q %+v, want the board again", name, b)
	}
}
