package mqtt

import (
	"strconv"
	"strings"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/storage"
	mochibolt "github.com/mochi-mqtt/server/v2/hooks/storage/bolt"
)

// boltStore is mochi's bbolt storage hook with two fixes.
//
// Mochi v2.7.9 does not store an in-flight message's packet id, so after a
// restart every restored message has id 0, they overwrite each other in
// the client's in-flight map, and the resend fails with "missing packet
// id". The id is part of the record's key ("if_{client}:{id}"), so it is
// restored from there.
//
// It neither stores nor restores the broker's $SYS counters: mochi's event
// loop calls OnSysInfoTick without waiting for Close, which stops the hook
// and clears its db under it (a data race the race detector caught in
// TestEmbeddedBrokerRestartLosesNothing); nothing in Passline reads the
// stored counters back; and mochi's hook logs an ERROR "failed to get data
// ... key=SYS" at every start when it finds none stored.
type boltStore struct {
	*mochibolt.Hook
}

// Provides implements the mochi hook: everything mochi's bbolt hook
// provides except the $SYS counters (see boltStore).
func (h boltStore) Provides(b byte) bool {
	return b != mochi.OnSysInfoTick && b != mochi.StoredSysInfo && h.Hook.Provides(b)
}

// StoredInflightMessages implements the mochi storage hook.
func (h boltStore) StoredInflightMessages() ([]storage.Message, error) {
	v, err := h.Hook.StoredInflightMessages()
	for i := range v {
		if v[i].PacketID != 0 {
			continue
		}
		if j := strings.LastIndexByte(v[i].ID, ':'); j >= 0 {
			if id, perr := strconv.ParseUint(v[i].ID[j+1:], 10, 16); perr == nil {
				v[i].PacketID = uint16(id)
			}
		}
	}
	return v, err
}
