package config_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/cloud/config"
	"github.com/passline/passline/wire/tlsconf/tlstest"
)

func TestExampleConfigsLoad(t *testing.T) {
	t.Setenv("PASSLINE_NATS_URL", "nats://127.0.0.1:4222")
	t.Setenv("PASSLINE_JWT_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	tlstest.Setenv(t, "cloud")
	paths, _ := filepath.Glob("../../configs/*cloud*.yaml")
	demo, _ := filepath.Glob("../../configs/*/*cloud*.yaml")
	paths = append(paths, demo...)
	if len(paths) < 2 {
		t.Fatalf("found %d cloud configs in configs/, want at least 2: %v", len(paths), paths)
	}
	for _, p := range paths {
		t.Run(p, func(t *testing.T) {
			if _, err := config.Load(p); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestDemoConfig(t *testing.T) {
	c, err := config.Load("../../configs/demo/cloud.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !c.NATS.Embedded.Enabled || c.NATS.Embedded.Listen != "127.0.0.1:14222" || c.HTTP.Listen != "127.0.0.1:18080" || !c.Demo.AutoAssign {
		t.Fatalf("demo config = %+v", c)
	}
}

func TestEnvExpansion(t *testing.T) {
	t.Setenv("X_NATS", "nats://10.0.0.1:4222")
	t.Setenv("X_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	c, err := config.Parse(strings.NewReader("nats:\n  url: ${X_NATS}\nstream:\n  duplicate_window: 30m\nauth: {key: \"${X_KEY}\"}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.NATS.URL != "nats://10.0.0.1:4222" || c.Stream.DuplicateWindow != 30*time.Minute {
		t.Fatalf("got url %q window %s", c.NATS.URL, c.Stream.DuplicateWindow)
	}
}

func TestValidateNamesField(t *testing.T) {
	for _, tc := range []struct{ yaml, field string }{
		{"nats:\n  url: \"\"\n", "nats.url"},
		{"nats:\n  embedded:\n    enabled: true\n    listen: nope\n", "nats.embedded.listen"},
		{"nats:\n  embedded:\n    enabled: true\n    listen: 127.0.0.1:0\n    cluster:\n      listen: 127.0.0.1:0\n", "nats.embedded.cluster.name"},
		{"stream:\n  replicas: 7\n", "stream.replicas"},
		{"stream:\n  duplicate_window: 3h\n  max_age: 1h\n", "stream.max_age"},
		{"consumer:\n  max_deliver: 0\n", "consumer.max_deliver"},
		{"consumer:\n  backoff: [1s, -1s]\n", "consumer.backoff[1]"},
		{"relay:\n  workers: 0\n", "relay.workers"},
		{"consumer:\n  ack_wait: 5s\nrelay:\n  channel_timeout: 5s\n", "consumer.ack_wait"},
		{"relay:\n  channel_timeouts: {webhook: 40s}\n", "consumer.ack_wait"},
		{"relay:\n  channel_timeouts: {sms: 0s}\n", "relay.channel_timeouts.sms"},
		{"relay:\n  order_view_ttl: 0s\n", "relay.order_view_ttl"},
		{"limits:\n  default_tier: gold\n", "limits.default_tier"},
		{"phrase:\n  enabled: true\n  base_url: nope\n", "phrase.base_url"},
		{"http:\n  listen: x\n", "http.listen"},
		{"http:\n  read_timeout: 0s\n", "http.read_timeout"},
		{"http:\n  idle_timeout: -1s\n", "http.idle_timeout"},
		{"http:\n  max_body: 10\n", "http.max_body"},
		{"locale: fr\n", "locale"},
		{"demo:\n  auto_assign: true\n  riders: 0\n", "demo.riders"},
		{"log_level: loud\n", "log_level"},
		{"nosuch: 1\n", "nosuch"},
		{"egress:\n  allow: [10.0.0.0/33]\n", "egress.allow[0]"},
		{"webhook:\n  endpoints: [{name: m, url: \"http://169.254.169.254/x\", secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}]\n", "webhook.endpoints[0].url"},
		{"webhook:\n  endpoints: [{name: m, url: \"http://localhost:9/x\", secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw}]\n", "webhook.endpoints[0].url"},
	} {
		_, err := config.Parse(strings.NewReader(tc.yaml))
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%q: err = %v, want it to name %s", tc.yaml, err, tc.field)
		}
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "none.yaml"))
	if err == nil || !os.IsNotExist(errorsUnwrap(err)) {
		t.Fatalf("err = %v", err)
	}
}

func errorsUnwrap(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// TestAuthRequiredByDefault: the secured API is the default; an empty
// auth.key is refused unless auth.insecure_dev asks for the open API.
func TestAuthRequiredByDefault(t *testing.T) {
	for _, tc := range []struct {
		yaml, err string
	}{
		{"", "auth.key: missing"},
		{"auth: {key: ''}", "auth.key: missing"},
		{"auth: {insecure_dev: false}", "auth.key: missing"},
		{"auth: {key: 'not base64!'}", "auth.key: not base64"},
		{"auth: {insecure_dev: true}", ""},
		{"auth: {key: MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=}", ""},
	} {
		_, err := config.Parse(strings.NewReader(tc.yaml))
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: err %v, want %q", tc.yaml, err, tc.err)
		}
	}
}

// TestExampleTLSFromEnv: configs/cloud.yaml takes its TLS files from the
// environment, and a missing file is refused naming the field.
func TestExampleTLSFromEnv(t *testing.T) {
	f := tlstest.New(t, "cloud")
	t.Setenv("PASSLINE_NATS_URL", "tls://127.0.0.1:4222")
	t.Setenv("PASSLINE_JWT_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	t.Setenv("PASSLINE_NATS_CA", f.CA)
	t.Setenv("PASSLINE_NATS_CERT", f.Cert)
	t.Setenv("PASSLINE_NATS_KEY", f.Key)
	c, err := config.Load("../../configs/cloud.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.NATS.TLS.CA != f.CA || c.NATS.TLS.Cert != f.Cert || c.NATS.TLS.Key != f.Key {
		t.Errorf("nats.tls = %+v", c.NATS.TLS)
	}
	t.Setenv("PASSLINE_NATS_KEY", "")
	if _, err := config.Load("../../configs/cloud.yaml"); err == nil || !strings.Contains(err.Error(), "nats.tls.key: required") {
		t.Errorf("cert without key: %v", err)
	}
}

// A $ in a value survives: $$ is one literal $ (os.ExpandEnv turned this
// key into "Xk9z!"), and an unset variable is refused by name.
func TestDollarInValue(t *testing.T) {
	t.Setenv("PASSLINE_JWT_KEY", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	c, err := config.Parse(strings.NewReader("auth: {key: \"${PASSLINE_JWT_KEY}\"}\nsms:\n  api_key: \"Xk9$mQ2$$z!\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMS.APIKey != "Xk9$mQ2$z!" {
		t.Fatalf("sms.api_key %q, want Xk9$mQ2$z!", c.SMS.APIKey)
	}
	_, err = config.Parse(strings.NewReader("auth:\n  key: ${PASSLINE_TEST_UNSET_KEY}\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2: ${PASSLINE_TEST_UNSET_KEY} is not set") {
		t.Fatalf("unset variable: %v", err)
	}
}

// TestEmbeddedNATSBeyondLoopbackNeedsAuth: an embedded NATS server that
// listens beyond loopback must authenticate its clients (a natsauth trust
// file, or client certificates); loopback stays credential-free.
func TestEmbeddedNATSBeyondLoopbackNeedsAuth(t *testing.T) {
	dir, f := t.TempDir(), tlstest.New(t, "nats")
	mtls := fmt.Sprintf("\n    tls: {cert: %s, key: %s, ca: %s}", f.Cert, f.Key, f.CA)
	for _, tc := range []struct {
		listen, extra string
		ok            bool
	}{
		{"127.0.0.1:14222", "", true},
		{"[::1]:14222", "", true},
		{"localhost:14222", "", true},
		{"0.0.0.0:4222", "", false},
		{":4222", "", false},
		{"10.1.2.3:4222", "", false},
		{"nats.internal:4222", "", false},
		{"0.0.0.0:4222", "\n    trust: /etc/passline/nats-trust.json", true},
		{"127.0.0.1:4222", "\n    trust: /etc/passline/nats-trust.json\nstream: {partitions: 4}", false},
		{"0.0.0.0:4222", mtls, true},
		{"0.0.0.0:4222", strings.Replace(mtls, ", ca: "+f.CA, "", 1), false}, // TLS without client certificates authenticates no one
	} {
		yaml := "nats:\n  embedded:\n    enabled: true\n    listen: \"" + tc.listen + "\"\n    store_dir: " + dir + tc.extra + "\nauth: {insecure_dev: true}\n"
		_, err := config.Parse(strings.NewReader(yaml))
		if tc.ok && err != nil {
			t.Errorf("listen %s%s: %v", tc.listen, tc.extra, err)
		}
		if !tc.ok && (err == nil || !strings.Contains(err.Error(), "nats.embedded.trust")) {
			t.Errorf("listen %s%s: err = %v, want one naming nats.embedded.trust", tc.listen, tc.extra, err)
		}
	}
}
