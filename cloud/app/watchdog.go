package app

import "errors"

// Alive reports whether the relay's NATS connection is usable: not closed
// for good (a disconnected one reconnects by itself and stays alive).
// Under systemd the watchdog is fed only while it is (internal/service).
func (m *Main) Alive() error {
	if m.nc == nil || m.nc.IsClosed() {
		return errors.New("nats connection closed")
	}
	return nil
}
