package config_test

import (
	"strings"
	"testing"

	"github.com/passline/passline/firmware-bridge/config"
)

// http.listen is optional; when set it must be host:port, and the error
// names the field.
func TestHTTPListen(t *testing.T) {
	for _, c := range []struct {
		yaml, want, err string
	}{
		{"", "", ""},
		{"http: {listen: '127.0.0.1:9102'}", "127.0.0.1:9102", ""},
		{"http: {listen: '127.0.0.1:0'}", "127.0.0.1:0", ""},
		{"http: {listen: 'nine-one-oh-two'}", "", "http.listen"},
	} {
		cfg, err := config.Parse(strings.NewReader("store: s1\nsim: {enabled: true}\n" + c.yaml))
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: error %v, want one naming %s", c.yaml, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%q: %v", c.yaml, err)
		case c.err == "" && cfg.HTTP.Listen != c.want:
			t.Errorf("%q: listen %q, want %q", c.yaml, cfg.HTTP.Listen, c.want)
		}
	}
}
