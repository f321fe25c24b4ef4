package uplink_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"

	at "github.com/passline/passline/agent/internal/agenttest"
	"github.com/passline/passline/agent/uplink"
	"github.com/passline/passline/wire/tlsconf"
	"github.com/passline/passline/wire/tlsconf/tlstest"
)

// startTLSNATS runs a TLS-only JetStream server with cert f on a random port.
func startTLSNATS(t *testing.T, f tlstest.Files) *at.NATS {
	t.Helper()
	stls, err := tlsconf.Config{Cert: f.Cert, Key: f.Key}.Server()
	if err != nil {
		t.Fatal(err)
	}
	return at.StartNATS(t, t.TempDir(), -1, func(o *server.Options) { o.TLSConfig, o.TLSTimeout = stls, 5 })
}

// TestUplinkOverTLS: an uplink trusting the server's CA drains its outbox
// over TLS; one trusting another CA never connects and keeps its entries.
func TestUplinkOverTLS(t *testing.T) {
	ca, other := tlstest.New(t, "nats"), tlstest.New(t, "other")
	s := startTLSNATS(t, ca)
	for _, tc := range []struct {
		name string
		ca   string
		ok   bool
	}{{"trusted", ca.CA, true}, {"untrusted", other.CA, false}} {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t)
			fill(t, db, 20)
			u := uplink.New(s.URL(), "s1", db)
			u.Log = at.Quiet()
			var err error
			if u.TLS, err = (tlsconf.Config{CA: tc.ca}).Client(); err != nil {
				t.Fatal(err)
			}
			if err := u.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			defer u.Close()
			if tc.ok {
				at.Eventually(t, 20*time.Second, "outbox drained over TLS", func() bool {
					st, _ := db.Stats()
					return st.Outbox == 0
				})
				return
			}
			time.Sleep(time.Second) // several connect attempts (ReconnectWait 500 ms)
			if st, _ := db.Stats(); u.Status().Connected || st.Outbox != 20 {
				t.Errorf("untrusted server: connected %v, outbox %d; want refused with 20 kept", u.Status().Connected, st.Outbox)
			}
		})
	}
}
