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
	case OpenDelivery:
		return NewOpenDelivery(), nil
	case Deliveroo:
		return NewDeliveroo(), nil
	case UberEats:
		return NewUberEats(), nil
	case DoorDash:
		return NewDoorDash(), nil
	case Meituan:
		return NewMeituan(), nil
	}
	return nil, fmt.Errorf("%q: %w", name, ErrUnknownPlatform)
}
