package mqtt

import (
	"strconv"
	"strings"

	"github.com/mochi-mqtt/server/v2/hooks/storage"
	mochibolt "github.com/mochi-mqtt/server/v2/hooks/storage/bolt"
)

// boltStore is mochi's bbolt storage hook with one fix: mochi v2.7.9 does
// not store an in-flight message's packet id, so after a restart every
// restored message has id 0, they overwrite each other in the client's
// in-flight map, and the resend fails with "missing packet id". The id is
// part of the record's key ("if_{client}:{id}"), so it is restored from
// there.
type boltStore struct {
	*mochibolt.Hook
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
