package confprop_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/agent/config"
	"github.com/passline/passline/agent/configsync"
	"github.com/passline/passline/agent/rules"
	"github.com/passline/passline/agent/uplink"
	"github.com/passline/passline/cloud/httpapi"
	"github.com/passline/passline/cloud/natsauth"
	"github.com/passline/passline/cloud/natsauth/natsauthtest"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/wire"
)

// syncBuf is a log sink for the watcher's goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestAgentConfigSyncWithStoreCredentials runs the agent's configsync with
// a store's minted credentials (cloud/natsauth StorePermissions) against
// an operator-mode server: it gets its own config, not store B's, reports
// its status where the relay reads it, and trips no permission violation.
func TestAgentConfigSyncWithStoreCredentials(t *testing.T) {
	tr, err := natsauth.NewTrust("confprop")
	if err != nil {
		t.Fatal(err)
	}
	ns := natsauthtest.Server(t, tr)
	iss, _ := tr.Issuer()
	creds := func(name string, b []byte, err error) string {
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	b, err := iss.MintRelay("r1")
	relay, err := nats.Connect(ns.ClientURL(), nats.UserCredentials(creds("relay.creds", b, err)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(relay.Close)
	js, _ := jetstream.New(relay)
	ctx := context.Background()
	state, err := natsjs.SetupAPI(ctx, js, 1)
	if err != nil {
		t.Fatal(err)
	}
	configs := state.Configs
	if _, err := configs.PutConfig(ctx, "B", wire.StoreConfig{V: 1, Rules: []wire.StoreRule{{Name: "b", When: "true", Emit: wire.KindETA}}}); err != nil {
		t.Fatal(err)
	}
	th := 0.42
	rev, err := configs.PutConfig(ctx, "A", wire.StoreConfig{V: 1, Params: wire.StoreParams{ConfidenceThreshold: &th}})
	if err != nil {
		t.Fatal(err)
	}

	base := config.DefaultConfig()
	base.Store, base.MQTT.ClientID = "A", "A-agent"
	engine, _ := rules.New(base.Params, nil)
	b, err = iss.MintStore("A")
	logs := &syncBuf{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	// The agent's connection, as the uplink opens it and configsync shares it.
	opts := append(uplink.StoreConnOptions("A-agent", "A", creds("a.creds", b, err), nil),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { log.Warn("nats async error", "err", err) }))
	agentConn, err := nats.Connect(ns.ClientURL(), opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(agentConn.Close)
	w := configsync.New(agentConn, base, engine)
	w.Log = log
	if err := w.Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Close)

	var view httpapi.ConfigView
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && !view.Current; time.Sleep(20 * time.Millisecond) {
		r, st, found, err := configs.ConfigState(ctx, "A")
		if err != nil {
			t.Fatal(err)
		}
		view = httpapi.ConfigView{Revision: r, Current: found && st.Revision == r}
	}
	if !view.Current || view.Revision != rev {
		t.Fatalf("relay never saw A's agent on revision %d: %+v\nlogs:\n%s", rev, view, logs)
	}
	if p := engine.Params(); p.ConfidenceThreshold != 0.42 {
		t.Fatalf("engine params %+v", p)
	}
	if _, _, found, _ := configs.ConfigState(ctx, "B"); found {
		t.Fatal("a status for store B appeared")
	}
	w.Close() // stopping the watch needs no other rights either
	if l := logs.String(); strings.Contains(l, "WARN") {
		t.Fatalf("watcher warned with store credentials:\n%s", l)
	}
}
