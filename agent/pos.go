package agent

import "github.com/passline/passline/wire"

// pos applies a status reported by a POS or KDS.
func (k *Kitchen) pos(e *wire.Event) *Change {
	p := e.POS
	var c *Change
	if p.Status == wire.StatusAccepted || p.Ticket != nil {
		t := wire.Ticket{OrderID: p.OrderID}
		if p.Ticket != nil {
			t = *p.Ticket
			t.OrderID = p.OrderID
		}
		c = k.ticket(&t, e)
		if p.Status == wire.StatusAccepted {
			return c
		}
	}
	o, from := k.placeholder(p.OrderID, e)
	if c != nil {
		from = c.From
	}
	if !advance(o, p.Status, e.At) {
		return c
	}
	return k.change(o, from)
}
