package kvwatch_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/agent/kvwatch"
	"github.com/passline/passline/agent/uplink"
)

// TestFollowerSeesCurrentValueThenUpdatesAcrossARestart: the key's value
// at start comes first, then each put; after the server restarts (the
// ordered consumer is gone) the follower watches again on its own and the
// next put arrives too. Retry is an hour, so only the reconnect can have
// reopened the watch.
func TestFollowerSeesCurrentValueThenUpdatesAcrossARestart(t *testing.T) {
	srv := at.StartNATS(t, t.TempDir(), -1)
	ctx := context.Background()
	kv := bucket(t, srv.URL())
	if _, err := kv.Put(ctx, "k", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(srv.URL(), uplink.StoreConnOptions("s1-agent", "s1", "", nil)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	got := make(chan string, 16)
	f := &kvwatch.Follower{Conn: nc, Bucket: "B", Key: "k", Retry: time.Hour, What: "test watch", Log: at.Quiet(),
		Handle: func(_ context.Context, e jetstream.KeyValueEntry) { got <- string(e.Value()) }}
	if err := f.Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	want(t, got, "v1")
	if _, err := kv.Put(ctx, "k", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	want(t, got, "v2")

	dir, port := srv.Opts.StoreDir, srv.Port()
	srv.Stop()
	srv = at.StartNATS(t, dir, port)
	kv = bucket(t, srv.URL())
	at.Eventually(t, 10*time.Second, "put after restart", func() bool {
		_, err := kv.Put(ctx, "k", []byte("v3"))
		return err == nil
	})
	deadline := time.After(10 * time.Second)
	for {
		select {
		case v := <-got:
			if v == "v3" {
				return
			}
			// The current value is redelivered on the new watch first.
			if v != "v2" {
				t.Fatalf("got %q after the restart, want v2 again or v3", v)
			}
		case <-deadline:
			t.Fatal("v3 never delivered after the restart")
		}
	}
}

func bucket(t *testing.T, url string) jetstream.KeyValue {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := jetstream.New(nc)
	kv, err := js.CreateOrUpdateKeyValue(context.Background(), jetstream.KeyValueConfig{Bucket: "B"})
	if err != nil {
		t.Fatal(err)
	}
	return kv
}

func want(t *testing.T, got <-chan string, v string) {
	t.Helper()
	select {
	case g := <-got:
		if g != v {
			t.Fatalf("got %q, want %q", g, v)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%q never delivered", v)
	}
}
