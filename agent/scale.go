package agent

import (
	"github.com/passline/passline/wire"
)

// weight packs an order: the labelled one, else the oldest finished one.
// A weight before the bump also marks the order done.
func (k *Kitchen) weight(e *wire.Event) (*Change, error) {
	w := e.Weight
	if !w.Stable {
		return nil, nil
	}
	var o *Order
	from := wire.OrderStatus("")
	if w.OrderID != "" {
		o, from = k.placeholder(w.OrderID, e)
	} else {
		for _, c := range k.Orders {
			if c.Status == wire.StatusDone && (o == nil || c.DoneAt.Before(o.DoneAt) || c.DoneAt.Equal(o.DoneAt) && c.ID < o.ID) {
				o = c
			}
		}
		if o == nil {
			return nil, &Refusal{ReasonUnknownOrder, "stable weight with no label and no finished order"}
		}
		from = o.Status
	}
	if !advance(o, wire.StatusPacked, e.At) {
		return nil, nil
	}
	return k.change(o, from), nil
}
