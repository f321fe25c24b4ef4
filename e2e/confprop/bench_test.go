package confprop_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/config"
	"github.com/passline/passline/agent/configsync"
	"github.com/passline/passline/agent/rules"
	"github.com/passline/passline/agent/uplink"
	"github.com/passline/passline/cloud/httpapi"
	"github.com/passline/passline/cloud/natsd/natsdtest"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/token"
	"github.com/passline/passline/wire"
)

// wait bounds one push: a push not seen within it fails the benchmark.
const wait = 5 * time.Second

// BenchmarkConfigPropagation: raw is a KV put until a watcher of the key
// has it; api is PUT /v1/stores/{store}/config (JWT, scope and store
// checks, strict decode) until the agent's configsync has validated the
// config, compiled its rules and swapped them into the rules engine. Both
// report p50 and p99 over b.N pushes.
func BenchmarkConfigPropagation(b *testing.B) {
	b.Run("raw_kv_put_to_watch", benchRaw)
	b.Run("api_put_to_agent_applied", benchAPI)
}

func benchRaw(b *testing.B) {
	_, js := natsdtest.JetStream(b)
	ctx := context.Background()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: wire.BucketConfig})
	if err != nil {
		b.Fatal(err)
	}
	w, err := kv.Watch(ctx, "s1", jetstream.UpdatesOnly())
	if err != nil {
		b.Fatal(err)
	}
	defer w.Stop()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		rev, err := kv.Put(ctx, "s1", body(i))
		if err != nil {
			b.Fatal(err)
		}
		awaitRev(b, w.Updates(), rev)
		lat = append(lat, time.Since(start))
	}
	report(b, lat)
}

func awaitRev(b *testing.B, ch <-chan jetstream.KeyValueEntry, rev uint64) {
	timeout := time.After(wait)
	for {
		select {
		case e := <-ch:
			if e != nil && e.Revision() == rev {
				return
			}
		case <-timeout:
			b.Fatalf("revision %d not delivered within %v", rev, wait)
		}
	}
}

func benchAPI(b *testing.B) {
	_, js := natsdtest.JetStream(b)
	ctx := context.Background()
	state, err := natsjs.SetupAPI(ctx, js, 1)
	if err != nil {
		b.Fatal(err)
	}
	configs := state.Configs
	a, _ := token.NewHS256([]byte("0123456789abcdef0123456789abcdef"))
	rt := &httpapi.Routes{Auth: &httpapi.Auth{Verifier: a}, Config: httpapi.PutStoreConfig(configs, nil)}
	srv := httptest.NewServer(rt.Handler())
	b.Cleanup(srv.Close)
	tok, _, err := a.Issue(token.Client{ID: "merchant", Tier: token.TierEnterprise, Stores: []string{"s1"}}, []string{token.ScopeConfigWrite})
	if err != nil {
		b.Fatal(err)
	}
	applied := startAgent(b, js)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		rev := put(b, srv, tok, body(i))
		awaitStatus(b, applied, rev)
		lat = append(lat, time.Since(start))
	}
	report(b, lat)
}

// startAgent runs the agent's side as the agent does: configsync over the
// rules engine (default rules plus one), on an agent connection of its own.
func startAgent(b *testing.B, js jetstream.JetStream) <-chan wire.ConfigStatus {
	b.Helper()
	base := config.DefaultConfig()
	base.Store, base.MQTT.ClientID = "s1", "s1-agent"
	base.Rules = append(rules.DefaultRules(), agent.Rule{Name: "probe", When: `confidence_threshold <= 0.5 && !sent("eta")`, Emit: wire.KindETA})
	e, err := rules.New(base.Params, base.Rules)
	if err != nil {
		b.Fatal(err)
	}
	nc, err := nats.Connect(js.Conn().ConnectedUrl(), uplink.StoreConnOptions("s1-agent", "s1", "", nil)...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	w := configsync.New(nc, base, e)
	w.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	applied := make(chan wire.ConfigStatus, 16)
	w.OnStatus = func(st wire.ConfigStatus) { applied <- st }
	if err := w.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(w.Close)
	return applied
}

func awaitStatus(b *testing.B, ch <-chan wire.ConfigStatus, rev uint64) {
	timeout := time.After(wait)
	for {
		select {
		case st := <-ch:
			if st.RefusedRevision == rev {
				b.Fatalf("revision %d refused: %s", rev, st.Reason)
			}
			if st.Revision == rev {
				return
			}
		case <-timeout:
			b.Fatalf("revision %d not applied within %v", rev, wait)
		}
	}
}

// body is a store config whose threshold changes with i, so every push
// really changes what the agent decides with.
func body(i int) []byte {
	return fmt.Appendf(nil, `{"params":{"confidence_threshold":%.2f,"lead_time":"%ds"},"locale":"en"}`, 0.3+float64(i%60)/100, 120+i%300)
}

func put(b *testing.B, srv *httptest.Server, tok string, body []byte) uint64 {
	req, _ := http.NewRequest(http.MethodPut, srv.URL+"/v1/stores/s1/config", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	resp, err := srv.Client().Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Revision uint64 }
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&out) != nil {
		b.Fatalf("PUT config: %d", resp.StatusCode)
	}
	return out.Revision
}

func report(b *testing.B, lat []time.Duration) {
	b.StopTimer()
	slices.Sort(lat)
	at := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
