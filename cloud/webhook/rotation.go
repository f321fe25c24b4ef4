package webhook

import (
	"errors"
	"fmt"
	"time"
)

// keysAt is the keys that sign a delivery made at now: the current key,
// and the previous one while the rotation overlap lasts.
func (c *Channel) keysAt(now time.Time) [][]byte {
	if c.prev != nil && now.Before(c.until) {
		return [][]byte{c.key, c.prev}
	}
	return [][]byte{c.key}
}

// validateRotation checks previous_secret and previous_until: both or
// neither, a valid secret different from secret.
func (ep Endpoint) validateRotation(field string) error {
	switch {
	case ep.PreviousSecret == "" && ep.PreviousUntil.IsZero():
		return nil
	case ep.PreviousSecret == "":
		return fmt.Errorf("%s.previous_secret: required with previous_until", field)
	case ep.PreviousUntil.IsZero():
		return fmt.Errorf("%s.previous_until: required with previous_secret (when the old secret stops signing)", field)
	case ep.PreviousSecret == ep.Secret:
		return errors.New(field + ".previous_secret: the same as secret; rotate to a new one (NewSecret)")
	}
	if _, err := DecodeSecret(ep.PreviousSecret); err != nil {
		return fmt.Errorf("%s.previous_secret: %w", field, err)
	}
	return nil
}
