package mqtt_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/passline/passline/agent"
	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/agent/mqtt"
)

func runBroker(t *testing.T, b *mqtt.Broker) *mqtt.Broker {
	t.Helper()
	b.Listen, b.Log = "127.0.0.1:0", at.Quiet()
	if err := b.Run(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// connectAs connects a clean-session MQTT 3.1.1 paho client and reports
// the error; tc, if set, is its TLS config.
func connectAs(url, clientID, user, pass string, tc *tls.Config) error {
	opts := paho.NewClientOptions().AddBroker(url).SetClientID(clientID).SetTLSConfig(tc).
		SetUsername(user).SetPassword(pass).SetConnectTimeout(5 * time.Second).SetProtocolVersion(4)
	c := paho.NewClient(opts)
	tok := c.Connect()
	if !tok.WaitTimeout(10 * time.Second) {
		return context.DeadlineExceeded
	}
	if tok.Error() == nil {
		c.Disconnect(10)
	}
	return tok.Error()
}

// TestReservedClientIDIsRefused: no client, not even on a loopback
// listener without credentials, may connect with the agent's client id
// (and so take over its session); any other id connects.
func TestReservedClientIDIsRefused(t *testing.T) {
	b := runBroker(t, &mqtt.Broker{Reserved: "s1-agent"})
	if err := connectAs(b.URL(), "s1-agent", "", "", nil); err == nil {
		t.Error("a client took the agent's client id")
	}
	if err := connectAs(b.URL(), "bridge-1", "", "", nil); err != nil {
		t.Errorf("another client id: %v", err)
	}
	if b.Refused() != 1 {
		t.Errorf("refused %d connections, want 1", b.Refused())
	}
}

// TestPasswordFileIsRequired: with a password file, only its users with
// their password connect, and the agent's own local credentials.
func TestPasswordFileIsRequired(t *testing.T) {
	line, err := mqtt.HashPassword("bridge", "s3cret$with$dollars")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "mqtt.passwd")
	if err := os.WriteFile(path, []byte("# devices\n"+line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	users, err := mqtt.LoadPasswordFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b := runBroker(t, &mqtt.Broker{Users: users, Reserved: "s1-agent"})
	localUser, localPass := b.LocalCredentials()
	tests := []struct {
		name, id, user, pass string
		ok                   bool
	}{
		{"no credentials", "c1", "", "", false},
		{"wrong password", "c2", "bridge", "guess", false},
		{"unknown user", "c3", "mallory", "s3cret$with$dollars", false},
		{"right password", "c4", "bridge", "s3cret$with$dollars", true},
		{"agent's client id with a right password", "s1-agent", "bridge", "s3cret$with$dollars", false},
		{"the agent's local credentials", "s1-board", localUser, localPass, true},
		{"local user, wrong password", "c5", localUser, "x", false},
	}
	for _, tt := range tests {
		err := connectAs(b.URL(), tt.id, tt.user, tt.pass, nil)
		if (err == nil) != tt.ok {
			t.Errorf("%s: connect error %v, want ok=%v", tt.name, err, tt.ok)
		}
	}
	for _, bad := range []string{"", "bridge\n", "bridge:plaintext\n"} {
		p := filepath.Join(t.TempDir(), "bad")
		if err := os.WriteFile(p, []byte(bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := mqtt.LoadPasswordFile(p); err == nil {
			t.Errorf("password file %q accepted", bad)
		}
	}
}

// TestOversizePacketIsRefused announces a 100 MB PUBLISH: the broker
// closes the connection on the fixed header, before it allocates the
// body, so the heap does not grow by the announced size.
func TestOversizePacketIsRefused(t *testing.T) {
	b := runBroker(t, &mqtt.Broker{})
	conn, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// CONNECT, MQTT 3.1.1, clean session, keepalive 60, client id "big".
	connect := []byte{0x10, 15, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 60, 0, 3, 'b', 'i', 'g'}
	if _, err := conn.Write(connect); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	connack := make([]byte, 4)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := r.Read(connack); err != nil || connack[0] != 0x20 || connack[3] != 0 {
		t.Fatalf("connack %x: %v", connack, err)
	}
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	// PUBLISH QoS 1 with remaining length 100 MB, then the start of a body.
	publish := append([]byte{0x32}, remainingLength(100<<20)...)
	publish = append(publish, 0, 3, 'a', '/', 'b', 0, 1)
	if _, err := conn.Write(publish); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = r.ReadByte()
	var ne net.Error
	if err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("broker kept the connection after a 100 MB packet header (read: %v)", err)
	}
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grow := int64(after.HeapAlloc) - int64(before.HeapAlloc); grow > 50<<20 {
		t.Errorf("heap grew by %d MB on a refused packet", grow>>20)
	}
	if mqtt.MaxPacket < 64<<10 || mqtt.MaxPacket > 80<<10 {
		t.Errorf("MaxPacket %d is not the 64 KiB payload limit plus headers", mqtt.MaxPacket)
	}
}

// remainingLength is MQTT's variable-length encoding of n.
func remainingLength(n int) []byte {
	var b []byte
	for {
		d := byte(n % 128)
		n /= 128
		if n > 0 {
			d |= 0x80
		}
		b = append(b, d)
		if n == 0 {
			return b
		}
	}
}

// TestIngestBeforePuback: with Ingest set, a publish on the store's topics
// is acknowledged only after Ingest returns; other topics and commands
// are not handed to it; when the broker closes, a waiting publish gets no
// PUBACK.
func TestIngestBeforePuback(t *testing.T) {
	release := make(chan struct{})
	got := make(chan string, 8)
	b := runBroker(t, &mqtt.Broker{Store: "s1", Ingest: func(ctx context.Context, in agent.Input) error {
		got <- in.Topic
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}})
	pub := at.Publisher(t, b.URL())
	ev := at.Ticket("s1", "o1", "grill", time.Now())
	raw, _ := ev.Marshal()
	tok := pub.Publish(at.Topic(ev), 1, false, raw)
	if topic := <-got; topic != at.Topic(ev) {
		t.Fatalf("ingested %q", topic)
	}
	if tok.WaitTimeout(300 * time.Millisecond) {
		t.Fatal("PUBACK before Ingest returned")
	}
	close(release)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("no PUBACK after Ingest returned: %v", tok.Error())
	}
	for _, topic := range []string{"passline/v1/s2/printer/p1/ticket", "passline/v1/s1/cmd/light1/on", "other/topic"} {
		at.PublishRaw(t, pub, topic, []byte("{}"))
	}
	select {
	case topic := <-got:
		t.Errorf("%q handed to Ingest", topic)
	default:
	}
	if b.Received() != 1 {
		t.Errorf("received %d, want 1", b.Received())
	}
}
