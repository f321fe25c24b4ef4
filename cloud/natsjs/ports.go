package natsjs

import (
	"github.com/passline/passline/cloud/httpapi"
	"github.com/passline/passline/cloud/relay"
)

// The relay's ports (relay/ports.go) and the HTTP API's that natsjs
// implements over JetStream.
var (
	_ relay.Marks            = Marks{}
	_ relay.Assignments      = Assignments{}
	_ relay.Assignments      = (*AssignmentCache)(nil)
	_ relay.Pending          = Pending{}
	_ relay.ETALimit         = ETALimit{}
	_ relay.OrderView        = Orders{}
	_ relay.Profiles         = (*Profiles)(nil)
	_ relay.AsyncChannel     = (*RiderChannel)(nil)
	_ relay.RecordingChannel = (*RiderChannel)(nil)
	_ httpapi.TemplatePutter = (*Templates)(nil)
)
