package app

import "errors"

// Alive reports whether the state db answers a read. Under systemd the
// watchdog is fed only while it does (internal/service), so a wedged db
// gets the agent restarted.
func (m *Main) Alive() error {
	if m.DB == nil {
		return errors.New("state db not open")
	}
	_, err := m.DB.Stats()
	return err
}
