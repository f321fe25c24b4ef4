package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/cloud/natsjs"
	"github.com/passline/passline/cloud/platform"
	"github.com/passline/passline/cloud/platform/platformtest"
	"github.com/passline/passline/cloud/sms"
	"github.com/passline/passline/wire"
)

// smsGateway records the texts an SMS gateway was asked to send.
type smsGateway struct {
	mu   sync.Mutex
	msgs []sms.Message
}

func (g *smsGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m sms.Message
	b, _ := io.ReadAll(r.Body)
	if json.Unmarshal(b, &m) != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	g.msgs = append(g.msgs, m)
	g.mu.Unlock()
}

func (g *smsGateway) messages() []sms.Message {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]sms.Message(nil), g.msgs...)
}

// TestCustomerHearsReadySoonAndDelayedOnce runs agent and cloud with the
// platform gateway and customer SMS on: a Deliveroo order's ticket makes
// the agent decide ready_soon and then delayed (store rules that fire at
// once, re-evaluated every second); the customer gets exactly one text of
// each through the SMS gateway, in the customer's locale (zh-CN, while the
// rider's is en); a further ready_soon for the same order reaches the
// rider but not the customer.
func TestCustomerHearsReadySoonAndDelayedOnce(t *testing.T) {
	store := uniqueID("cust")
	order, rider := "o-"+uniqueID("")[:8], uniqueID("rider")
	gw := &smsGateway{}
	gwSrv := httptest.NewServer(gw)
	t.Cleanup(gwSrv.Close)
	droo := platformtest.Deliveroo(t, "cid", "csecret", "tok")

	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32))
	cc := cloudConfig(t, "")
	cc.Platform.SealKey, cc.Platform.Customer = key, "sms"
	cc.SMS.URL, cc.SMS.Kinds = gwSrv.URL, []wire.DecisionKind{wire.KindReady} // riders' own SMS: ready only
	cc.Egress.Allow = []string{"127.0.0.1"}
	cloud := startCloud(t, cc)

	ctx := context.Background()
	b, err := natsjs.SetupPlatform(ctx, cloud.JetStream(), 1)
	if err != nil {
		t.Fatal(err)
	}
	sealer, _ := platform.NewSealer(key)
	if err := (natsjs.PlatformCredentials{KV: b.Creds, Sealer: sealer}).Put(ctx, store, platform.Credentials{Platform: platform.Deliveroo,
		PlatformStoreID: "4163", BaseURL: droo.URL(), TokenURL: droo.URL() + "/oauth2/token", ClientID: "cid", ClientSecret: "csecret", WebhookSecret: "w"}); err != nil {
		t.Fatal(err)
	}
	// What the platform told Passline about the order: its id, and the
	// customer's language and phone.
	if _, err := (natsjs.PlatformOrders{KV: b.Orders}).Update(ctx, store, order, func(o *platform.Order) error {
		*o = platform.Order{Store: store, OrderID: order, Platform: platform.Deliveroo, PlatformID: "gb:" + order, Status: "accepted",
			Locale: "zh-CN", CustomerPhone: "+8613800138000", PrepareFor: time.Now().Add(time.Minute)}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	ac := agentConfig(t, store, "", cloud.NATSURL())
	ac.Params.RetryInterval = time.Second
	ac.Rules = []agent.Rule{
		{Name: "ready", Emit: wire.KindReady, When: `transition in ["done", "packed"] && !sent("ready")`},
		{Name: "ready_soon", Emit: wire.KindReadySoon, When: `cooking && !sent("ready_soon")`},
		{Name: "delayed", Emit: wire.KindDelayed, When: `cooking && sent("ready_soon") && !sent("delayed")`},
	}
	ag := startAgent(t, ac)

	nc, err := nats.Connect(cloud.NATSURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	notes := make(chan *nats.Msg, 64)
	if _, err := nc.ChanSubscribe(wire.RiderFilter(rider), notes); err != nil {
		t.Fatal(err)
	}
	assign, _ := wire.Assignment{Store: store, OrderID: order, Rider: rider, Locale: "en", At: time.Now()}.Marshal()
	if err := nc.Publish(wire.AssignSubject(store), assign); err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	waitUntil(t, 20*time.Second, "agent subscribed to MQTT", ag.MQTTConnected)
	publishTicket(t, mqttClient(t, ag.MQTTURL()), store, order, time.Now().UTC())

	riderKinds := map[wire.DecisionKind]int{}
	deadline := time.After(40 * time.Second)
	for riderKinds[wire.KindReadySoon] == 0 || riderKinds[wire.KindDelayed] == 0 {
		select {
		case m := <-notes:
			n, err := wire.DecodeNotification(m.Data)
			if err != nil {
				t.Fatal(err)
			}
			riderKinds[n.Kind]++
		case <-deadline:
			t.Fatalf("rider got %v, want ready_soon and delayed", riderKinds)
		}
	}
	// A second ready_soon for the order (a store that decides again):
	// the rider hears it, the customer's cap holds.
	js := cloud.JetStream()
	again := wire.Decision{ID: "again-" + order, Store: store, OrderID: order, ShortCode: "#17", Kind: wire.KindReadySoon,
		CreatedAt: time.Now().UTC(), ExpiresAt: time.Now().Add(time.Hour), ETA: ptrTime(time.Now().Add(3 * time.Minute))}
	raw, _ := again.Marshal()
	msg := nats.NewMsg(wire.DecisionSubject(store))
	msg.Data, msg.Header = raw, nats.Header{wire.HeaderMsgID: {again.ID}}
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 20*time.Second, "the rider hears the second ready_soon", func() bool {
		for {
			select {
			case m := <-notes:
				if n, err := wire.DecodeNotification(m.Data); err == nil && n.ID == again.ID {
					return true
				}
			default:
				return false
			}
		}
	})
	time.Sleep(time.Second)
	var texts []string
	for _, m := range gw.messages() {
		if m.To != "+8613800138000" {
			t.Errorf("text to %s, want the customer's phone", m.To)
		}
		texts = append(texts, m.Text)
	}
	if len(texts) != 2 {
		t.Fatalf("customer got %d texts %q, want one ready_soon and one delayed", len(texts), texts)
	}
	joined := strings.Join(texts, "\n")
	if !strings.Contains(joined, "您在") || !strings.Contains(joined, "延迟") || !strings.Contains(joined, "#17") {
		t.Errorf("texts are not the zh-CN customer templates: %q", texts)
	}
}

func ptrTime(t time.Time) *time.Time { return &t }
