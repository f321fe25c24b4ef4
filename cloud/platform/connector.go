package platform

import "fmt"

// Connector is one platform's outbound adapter and webhook reader.
type Connector interface {
	Adapter
	Inbound
}

// NewConnector returns the connector of the named platform.
func NewConnector(name string) (Connector, error) {
	switch name {
	case Deliveroo:
		return NewDeliveroo(), nil
	}
	return nil, fmt.Errorf("%q: %w", name, ErrUnknownPlatform)
}
