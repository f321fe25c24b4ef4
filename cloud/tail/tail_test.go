package tail_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/passline/passline/cloud/natsd"
	"github.com/passline/passline/cloud/tail"
	"github.com/passline/passline/wire"
)

func note() wire.Notification {
	return wire.Notification{ID: "d1", Rider: "rider-3", Store: "store-1", OrderID: "order-123456789", ShortCode: "#23",
		Kind: wire.KindReady, Text: "order #23 is ready", SentAt: time.Now()}
}

func TestFormat(t *testing.T) {
	line := tail.Format(note())
	for _, want := range []string{"rider-3", "store-1", "#23", "ready", "order #23 is ready"} {
		if !strings.Contains(line, want) {
			t.Errorf("line %q lacks %q", line, want)
		}
	}
	if strings.Contains(line, "sent again") {
		t.Errorf("first send marked as a re-send: %q", line)
	}
	n := note()
	n.Resent = true
	if line := tail.Format(n); !strings.HasSuffix(line, "order #23 is ready  (sent again: not acked)") {
		t.Errorf("re-send: %q", line)
	}
	n.ShortCode = ""
	if line := tail.Format(n); !strings.Contains(line, "…3456789") {
		t.Errorf("no short code: %q", line)
	}
	if line := tail.FormatMsg(wire.RiderSubject("x", "k1"), []byte("{")); !strings.Contains(line, "unreadable") {
		t.Errorf("bad payload: %q", line)
	}
}

// lockedBuffer is a bytes.Buffer safe for the tail goroutine and the test.
type lockedBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu <- struct{}{}
	defer func() { <-b.mu }()
	return b.buf.String()
}

func runTail(t *testing.T, url string) {
	ctx, cancel := context.WithCancel(context.Background())
	out := &lockedBuffer{mu: make(chan struct{}, 1)}
	done := make(chan error, 1)
	rider := "rider-tail-" + time.Now().Format("150405999")
	go func() { done <- tail.Run(ctx, url, rider, out) }()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	n := note()
	n.Rider = rider
	b, _ := n.Marshal()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "order #23 is ready") && time.Now().Before(deadline) {
		_ = nc.Publish(wire.RiderSubject(rider, "k1"), b)
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "order #23 is ready") {
		t.Fatalf("tail printed %q", out.String())
	}
}

func TestRunEmbedded(t *testing.T) {
	s, err := natsd.Start(natsd.Options{Listen: "127.0.0.1:0", StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	runTail(t, s.ClientURL())
}

func TestRunRealNATS(t *testing.T) {
	url := os.Getenv("PASSLINE_TEST_NATS")
	if url == "" {
		t.Skip("PASSLINE_TEST_NATS not set: skipping tail against the real nats-server")
	}
	runTail(t, url)
}

func FuzzFormatMsg(f *testing.F) {
	b, _ := note().Marshal()
	for _, s := range [][]byte{b, []byte("{"), []byte(`{"v":1}`), nil} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if line := tail.FormatMsg("s", b); line == "" {
			t.Fatal("empty line")
		}
	})
}
