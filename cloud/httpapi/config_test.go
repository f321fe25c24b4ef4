package httpapi_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/passline/passline/cloud/httpapi"
	"github.com/passline/passline/cloud/httpapi/httpapitest"
	"github.com/passline/passline/cloud/natsd/natsdtest"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/wire"
)

// kvConfigs opens the config buckets on a fresh server.
func kvConfigs(t *testing.T) natsjs.StoreConfigs {
	t.Helper()
	_, js := natsdtest.JetStream(t)
	state, err := natsjs.SetupAPI(context.Background(), js, 1)
	if err != nil {
		t.Fatal(err)
	}
	return state.Configs
}

func TestPutStoreConfig(t *testing.T) {
	k := kvConfigs(t)
	h := httpapi.PutStoreConfig(k, nil)
	const pattern = "PUT /v1/stores/{store}/config"
	tests := []struct {
		name, body string
		status     int
		code       string
		field      string
	}{
		{"valid", `{"params":{"confidence_threshold":0.6,"lead_time":"4m"},"rules":[{"name":"r","when":"true","emit":"eta"}],"locale":"en"}`, 200, "", ""},
		{"bad threshold", `{"params":{"confidence_threshold":3}}`, 400, "invalid_field", "params.confidence_threshold"},
		{"bad duration", `{"params":{"retry_interval":"often"}}`, 400, "invalid_field", "params.retry_interval"},
		{"bad emit", `{"rules":[{"name":"r","when":"true","emit":"shout"}]}`, 400, "invalid_field", "rules[0].emit"},
		{"bad locale", `{"locale":"xx"}`, 400, "invalid_field", "locale"},
		{"unknown field", `{"parms":{}}`, 400, "unknown_field", "parms"},
		{"wrong type", `{"params":{"confidence_threshold":"high"}}`, 400, "wrong_type", "params.confidence_threshold"},
		{"wrong version", `{"v":9}`, 400, "invalid_field", "v"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := serve(h, pattern, "PUT", "/v1/stores/s1/config", tt.body, s1Claims)
			code, field := errField(body)
			if status != tt.status || code != tt.code || field != tt.field {
				t.Fatalf("got %d %s %s (%v), want %d %s %s", status, code, field, body, tt.status, tt.code, tt.field)
			}
		})
	}
	e, err := k.Config.Get(context.Background(), "s1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := wire.DecodeStoreConfig(e.Value())
	if err != nil || c.V != wire.Version || *c.Params.ConfidenceThreshold != 0.6 || e.Revision() != 1 {
		t.Fatalf("stored %s: %+v %v", e.Value(), c, err)
	}
	if status, _ := serve(h, pattern, "PUT", "/v1/stores/bad.store/config", `{}`, s1Claims); status != 400 {
		t.Fatalf("bad store id: %d", status)
	}
}

func TestStoreConfigStatus(t *testing.T) {
	k := kvConfigs(t)
	h := httpapi.StoreConfigStatus(k, nil)
	const pattern = "GET /v1/stores/{store}/config/status"
	get := func() (int, httpapi.ConfigView) {
		status, body := serve(h, pattern, "GET", "/v1/stores/s1/config/status", "", s1Claims)
		b, _ := json.Marshal(body)
		var v httpapi.ConfigView
		_ = json.Unmarshal(b, &v)
		return status, v
	}
	if status, _ := get(); status != 404 {
		t.Fatalf("nothing stored: %d", status)
	}
	ctx := context.Background()
	rev, err := k.PutConfig(ctx, "s1", wire.StoreConfig{V: 1, Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	if status, v := get(); status != 200 || v.Revision != rev || v.Agent != nil || v.Current {
		t.Fatalf("stored, not reported: %d %+v", status, v)
	}
	report := func(st wire.ConfigStatus) {
		b, _ := json.Marshal(st)
		if _, err := k.Status.Put(ctx, "s1", b); err != nil {
			t.Fatal(err)
		}
	}
	report(wire.ConfigStatus{V: 1, Store: "s1", Revision: rev, AppliedAt: time.Now()})
	if status, v := get(); status != 200 || !v.Current || v.Agent.Revision != rev {
		t.Fatalf("applied: %d %+v", status, v)
	}
	rev2, _ := k.PutConfig(ctx, "s1", wire.StoreConfig{V: 1})
	report(wire.ConfigStatus{V: 1, Store: "s1", Revision: rev, RefusedRevision: rev2, Reason: `rules[0] "x": line 1, column 3: bad`})
	if status, v := get(); status != 200 || v.Current || v.Agent.RefusedRevision != rev2 || v.Agent.Reason == "" {
		t.Fatalf("refused: %d %+v", status, v)
	}
}

// FuzzDecodeStoreConfig fuzzes the PUT /v1/stores/{store}/config body.
func FuzzDecodeStoreConfig(f *testing.F) {
	httpapitest.FuzzBody(f, func() any { return new(wire.StoreConfig) },
		[]byte(`{"params":{"confidence_threshold":0.85,"lead_time":"5m"},"rules":[{"name":"r","when":"true","emit":"eta"}],"locale":"zh-CN"}`),
		[]byte(`{"params":{"prediction_window":5}}`), []byte(`{"rules":[{"name":1}]}`), []byte(`{"v":1,"locale":null}`))
}
