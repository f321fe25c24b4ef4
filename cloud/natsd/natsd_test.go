package natsd_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/cloud/natsd"
)

// A server on port 0 reports the port it bound, and its JetStream data
// survives a restart on the same store dir.
func TestStartRestartKeepsStreams(t *testing.T) {
	dir := t.TempDir()
	s, err := natsd.Start(natsd.Options{Listen: "127.0.0.1:0", StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	url := s.ClientURL()
	if strings.HasSuffix(url, ":0") || strings.HasSuffix(url, ":4222") {
		t.Fatalf("client URL %q is not a random port", url)
	}
	publish(t, url)
	s.Shutdown()

	s2, err := natsd.Start(natsd.Options{Listen: "127.0.0.1:0", StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Shutdown()
	nc, err := nats.Connect(s2.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := js.Stream(ctx, "T")
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := st.Info(ctx); info.State.Msgs != 1 {
		t.Fatalf("after restart the stream holds %d messages", info.State.Msgs)
	}
}

func publish(t *testing.T, url string) {
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Publish(ctx, "t", []byte("x")); err != nil {
		t.Fatal(err)
	}
}

func TestBadOptions(t *testing.T) {
	for _, o := range []natsd.Options{{Listen: "nope"}, {Listen: "127.0.0.1:x"}, {Listen: "127.0.0.1:0", ClusterListen: "bad"}} {
		if _, err := natsd.Start(o); err == nil {
			t.Errorf("%+v: started", o)
		}
	}
}
