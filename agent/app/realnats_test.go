package app_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/wire"
)

// TestRealNATS runs the agent against the machine's nats-server
// (PASSLINE_TEST_NATS) and, when set, the real Mosquitto
// (PASSLINE_TEST_MQTT): a ticket and a bump give a ready decision in the
// DECISIONS stream. It uses a random store and purges that store's subject
// afterwards.
func TestRealNATS(t *testing.T) {
	url := at.Env(t, "PASSLINE_TEST_NATS")
	store := fmt.Sprintf("it-%d", rand.IntN(1_000_000_000))
	c := testConfig(store, url, t.TempDir())
	mqttURL := ""
	if real := at.EnvOptional("PASSLINE_TEST_MQTT"); real != "" {
		c.MQTT.Embedded.Enabled, c.MQTT.URL, mqttURL = false, real, real
	}
	m := startAgent(t, c)
	if mqttURL == "" {
		mqttURL = "tcp://" + m.MQTTAddr()
	}
	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	subj := wire.DecisionSubject(store)
	t.Cleanup(func() {
		if s, err := js.Stream(t.Context(), wire.StreamDecisions); err == nil {
			_ = s.Purge(t.Context(), jetstream.WithPurgeSubject(subj))
		}
	})
	pub := at.Publisher(t, mqttURL)
	now := time.Now()
	at.Publish(t, pub, at.Ticket(store, "o1", "grill", now.Add(-2*time.Minute)))
	at.Publish(t, pub, at.Bump(store, "o1", now))
	got := make(chan wire.Decision, 8)
	at.Eventually(t, 20*time.Second, "stream exists", func() bool {
		_, err := js.Stream(t.Context(), wire.StreamDecisions)
		return err == nil
	})
	cons, err := js.OrderedConsumer(t.Context(), wire.StreamDecisions, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subj}})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := cons.Consume(func(msg jetstream.Msg) {
		if d, err := wire.DecodeDecision(msg.Data()); err == nil {
			got <- d
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Stop()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case d := <-got:
			if d.Kind == wire.KindReady && d.OrderID == "o1" && d.EventID == "b-o1" {
				return
			}
		case <-deadline:
			t.Fatalf("no ready decision for %s on %s", store, url)
		}
	}
}
