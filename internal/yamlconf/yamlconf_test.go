package yamlconf_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/passline/passline/internal/yamlconf"
)

type sample struct {
	Password string        `yaml:"password"`
	Port     int           `yaml:"port"`
	Wait     time.Duration `yaml:"wait"`
	Tags     []string      `yaml:"tags"`
	Nested   struct {
		URL string `yaml:"url"`
	} `yaml:"nested"`
}

var env = map[string]string{"SECRET": "s3cr: t \"q\" #x", "PORT": "8443", "HOST": "nats-1", "EMPTY": ""}

func lookup(k string) (string, bool) { v, ok := env[k]; return v, ok }

func TestDecodeLookup(t *testing.T) {
	tests := []struct {
		name, doc string
		want      func(s sample) bool
		err       string // substring of the error; "" for none
	}{
		{"literal dollars in a quoted password", `password: "Xk9$mQ2$$z!"`,
			func(s sample) bool { return s.Password == "Xk9$mQ2$z!" }, ""},
		{"literal dollars in a plain password", `password: Xk9$mQ2$$z!`,
			func(s sample) bool { return s.Password == "Xk9$mQ2$z!" }, ""},
		{"bare $name and a trailing $ stay", `password: $HOST-$`,
			func(s sample) bool { return s.Password == "$HOST-$" }, ""},
		{"${VAR} with YAML syntax in its value", `password: ${SECRET}`,
			func(s sample) bool { return s.Password == env["SECRET"] }, ""},
		{"plain value typed after expansion", "port: ${PORT}\nwait: 2s",
			func(s sample) bool { return s.Port == 8443 && s.Wait == 2*time.Second }, ""},
		{"inside a string, a list and a nested map", "nested: {url: 'nats://${HOST}:4222'}\ntags: [a, '${HOST}']",
			func(s sample) bool { return s.Nested.URL == "nats://nats-1:4222" && s.Tags[1] == "nats-1" }, ""},
		{"default when unset", `password: ${NOPE:-fallback}`,
			func(s sample) bool { return s.Password == "fallback" }, ""},
		{"empty default when set empty", `password: ${EMPTY:-}`,
			func(s sample) bool { return s.Password == "" }, ""},
		{"comments are not expanded", "# example: ${NOPE}\npassword: x # or ${NOPE}",
			func(s sample) bool { return s.Password == "x" }, ""},
		{"empty document keeps the defaults", "", func(s sample) bool { return s.Port == 1 }, ""},
		{"unset variable names it and the line", "port: 1\npassword: ${PASSLINE_NOPE}", nil, "config line 2: ${PASSLINE_NOPE} is not set"},
		{"unterminated", `password: "a${HOST"`, nil, "unterminated ${"},
		{"not a name", `password: ${1X}`, nil, `"1X" is not a variable name`},
		{"unknown field names its line", "port: 1\npasword: x", nil, "line 2: field pasword not found"},
		{"unknown nested field", "nested: {uri: x}", nil, "field uri not found"},
		{"type error", "port: many", nil, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := sample{Port: 1}
			err := yamlconf.DecodeLookup(strings.NewReader(tt.doc), &s, lookup)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.want(s) {
				t.Fatalf("decoded %+v", s)
			}
		})
	}
}

// The environment is the default lookup.
func TestDecodeReadsEnvironment(t *testing.T) {
	t.Setenv("YAMLCONF_TEST_PASSWORD", "from-env")
	var s sample
	if err := yamlconf.Decode(strings.NewReader("password: ${YAMLCONF_TEST_PASSWORD}"), &s); err != nil {
		t.Fatal(err)
	}
	if s.Password != "from-env" {
		t.Fatalf("password %q", s.Password)
	}
	if _, ok := os.LookupEnv("YAMLCONF_TEST_UNSET"); ok {
		t.Skip("YAMLCONF_TEST_UNSET is set")
	}
	if err := yamlconf.Decode(strings.NewReader("password: ${YAMLCONF_TEST_UNSET}"), &s); err == nil {
		t.Fatal("unset variable accepted")
	}
}

// checked refuses a port of 0; its Validate has a pointer receiver, as
// the bridge's config has.
type checked struct {
	Port int `yaml:"port"`
}

func (c *checked) Validate() error {
	if c.Port == 0 {
		return errors.New("port: required")
	}
	return nil
}

func TestLoadValidates(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path string
		port       int
		err        string
	}{
		{"over the defaults", write("ok.yaml", "# defaults only\n"), 7, ""},
		{"decoded", write("set.yaml", "port: 9"), 9, ""},
		{"invalid names the file", write("zero.yaml", "port: 0"), 0, "zero.yaml: port: required"},
		{"unknown field names the file", write("bad.yaml", "prt: 1"), 0, "bad.yaml: decode config: line 1: field prt not found"},
		{"missing file", filepath.Join(dir, "none.yaml"), 0, "open config " + filepath.Join(dir, "none.yaml")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := yamlconf.Load(tt.path, checked{Port: 7})
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err %v, want it to contain %q", err, tt.err)
				}
				return
			}
			if err != nil || c.Port != tt.port {
				t.Fatalf("Load = %+v, %v; want port %d", c, err, tt.port)
			}
		})
	}
}
