package app_test

import (
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	at "github.com/passline/passline/agent/internal/agenttest"
)

// TestAgentClientIDIsNotTakeable: on the agent's embedded broker, on
// loopback with no credentials configured, a device connects but a client
// using the agent's own client id is refused.
func TestAgentClientIDIsNotTakeable(t *testing.T) {
	n := at.StartNATS(t, t.TempDir(), -1)
	m := startAgent(t, testConfig("s1", n.URL(), t.TempDir()))
	connect := func(id string) error {
		c := paho.NewClient(paho.NewClientOptions().AddBroker(m.MQTTURL()).SetClientID(id).SetProtocolVersion(4))
		tok := c.Connect()
		if !tok.WaitTimeout(10 * time.Second) {
			t.Fatalf("connect %s: no answer", id)
		}
		if tok.Error() == nil {
			c.Disconnect(10)
		}
		return tok.Error()
	}
	if err := connect("bridge-1"); err != nil {
		t.Fatalf("a device could not connect: %v", err)
	}
	if err := connect(m.Config.MQTT.ClientID); err == nil {
		t.Errorf("a client connected as the agent (%s)", m.Config.MQTT.ClientID)
	}
}
