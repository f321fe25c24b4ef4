package main_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/passline/passline/agent"
	"github.com/passline/passline/agent/app"
	"github.com/passline/passline/agent/config"
	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/agent/mqtt"
)

// TestStatusAndRejectsCommands runs `passline-agent status` and `rejects`
// against a running agent.
func TestStatusAndRejectsCommands(t *testing.T) {
	n := at.StartNATS(t, t.TempDir(), -1)
	c := config.DefaultConfig()
	c.Store, c.DataDir, c.NATS.URL, c.HTTP.Listen = "cli", t.TempDir(), n.URL(), "127.0.0.1:0"
	c.MQTT.ClientID, c.MQTT.Embedded.Enabled, c.MQTT.Embedded.Listen = "cli-agent", true, "127.0.0.1:0"
	m := app.NewMain()
	m.Config, m.Log, m.Decider = c, at.Quiet(), agent.BasicDecider{}
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer func() {
		path := m.StatePath()
		m.Close()
		at.CheckInvariants(t, path)
	}()
	at.Eventually(t, 20*time.Second, "subscribed", m.MQTTConnected)
	pub := at.Publisher(t, "tcp://"+m.MQTTAddr())
	at.Publish(t, pub, at.Ticket("cli", "o1", "grill", time.Now()))
	at.PublishRaw(t, pub, "passline/v1/cli/printer/p1/ticket", []byte("garbage"))
	at.Eventually(t, 20*time.Second, "committed", func() bool { return m.Writer.Committed() >= 2 })

	out, err := exec.Command(binary, "-addr", m.HTTPAddr(), "status").Output()
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	var st app.Status
	if err := json.Unmarshal(out, &st); err != nil || st.Store != "cli" || len(st.OpenOrders) != 1 || st.Rejects["malformed"] != 1 {
		t.Errorf("status output %s (%v)", out, err)
	}
	out, err = exec.Command(binary, "-addr", m.HTTPAddr(), "rejects", "-limit", "5").Output()
	var rs []map[string]any
	if err != nil || json.Unmarshal(out, &rs) != nil || len(rs) != 1 || rs[0]["reason"] != "malformed" {
		t.Errorf("rejects: %v %s", err, out)
	}
	if err := exec.Command(binary, "-addr", "127.0.0.1:1", "status").Run(); err == nil {
		t.Error("status against no agent succeeded")
	}
}

// TestMQTTPasswdWritesAPasswordFileLine: the printed line is accepted by
// the embedded broker's password file loader.
func TestMQTTPasswdWritesAPasswordFileLine(t *testing.T) {
	cmd := exec.Command(binary, "mqtt-passwd", "bridge")
	cmd.Stdin = strings.NewReader("pa$$word\n")
	out, err := cmd.Output()
	if err != nil || !strings.HasPrefix(string(out), "bridge:$2") {
		t.Fatalf("mqtt-passwd: %v %q", err, out)
	}
	path := filepath.Join(t.TempDir(), "mqtt.passwd")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	users, err := mqtt.LoadPasswordFile(path)
	if err != nil || bcrypt.CompareHashAndPassword(users["bridge"], []byte("pa$$word")) != nil {
		t.Errorf("password file line %q: %v", out, err)
	}
}
