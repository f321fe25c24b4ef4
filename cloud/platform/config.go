package platform

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/passline/passline/cloud/breaker"
)

// Config is the platform section of the cloud config.
type Config struct {
	// SealKey encrypts stored credentials: base64 of 32 random bytes
	// (head -c32 /dev/urandom | base64). Put it in the environment and
	// write "${VAR}". Empty turns the platform gateway off.
	SealKey string `yaml:"seal_key"`
	// Platforms are the platforms to run a channel and a webhook receiver
	// for; empty means all of Names.
	Platforms []string `yaml:"platforms"`
	// Customer sends platform orders' customers their own ready_soon and
	// delayed messages, at most one of each per order: "sms" through the
	// sms gateway (sms.url) to the customer's phone, "webhook:<name>"
	// to that webhook endpoint; empty: off.
	Customer string `yaml:"customer"`
	// Timeout bounds one HTTP attempt.
	Timeout time.Duration  `yaml:"timeout"`
	Retry   breaker.Retry  `yaml:"retry"`
	Breaker breaker.Config `yaml:"breaker"`
}

// DefaultConfig is off, with 5 s attempts and the default retry and
// breaker.
func DefaultConfig() Config {
	return Config{Timeout: 5 * time.Second, Retry: breaker.DefaultRetry(), Breaker: breaker.DefaultConfig()}
}

// Enabled reports whether the gateway runs.
func (c Config) Enabled() bool { return c.SealKey != "" }

// Names lists the platforms to run.
func (c Config) Names() []string {
	if len(c.Platforms) == 0 {
		return Names
	}
	return c.Platforms
}

// Validate checks the fields; prefix names the section.
func (c Config) Validate(prefix string) error {
	if c.SealKey != "" {
		if _, err := NewSealer(c.SealKey); err != nil {
			return fmt.Errorf("%s.seal_key: %w", prefix, err)
		}
	}
	for i, p := range c.Platforms {
		if !Valid(p) {
			return fmt.Errorf("%s.platforms[%d]: %q is not one of %v", prefix, i, p, Names)
		}
		if slices.Index(c.Platforms, p) != i {
			return fmt.Errorf("%s.platforms[%d]: %q listed twice", prefix, i, p)
		}
	}
	if c.Customer != "" && c.Customer != "sms" && !strings.HasPrefix(c.Customer, "webhook:") {
		return fmt.Errorf("%s.customer: %q is not sms or webhook:<name>", prefix, c.Customer)
	}
	if c.Timeout <= 0 {
		return fmt.Errorf("%s.timeout: %v is not positive", prefix, c.Timeout)
	}
	if err := c.Retry.Validate(prefix + ".retry"); err != nil {
		return err
	}
	return c.Breaker.Validate(prefix + ".breaker")
}
