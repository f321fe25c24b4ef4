package agent

import (
	"fmt"
	"strings"

	"github.com/passline/passline/wire"
)

// scan applies a scanned ticket code: the order it names is ready (done),
// as a bump would make it, and a ready report follows. A code names an
// open order by its id (what the print proxy's QR code carries) or by its
// pickup number ("#23" or "23"). Scanning an order that is already done,
// packed or closed changes nothing; a code that names no open order, or
// names several, is refused and no order moves.
func (k *Kitchen) scan(e *wire.Event) (*Change, error) {
	code := strings.TrimSpace(e.Scan.Code)
	o := k.Orders[code]
	if o == nil {
		if k.Closed != nil && wire.ValidToken(code) && k.Closed(code) {
			return nil, nil // picked up or cancelled already: a late scan
		}
		var err error
		if o, err = k.byShortCode(code); err != nil {
			return nil, err
		}
	}
	from := o.Status
	if !advance(o, wire.StatusDone, e.At) {
		return nil, nil
	}
	if k.Selected[o.Station] == o.ID {
		delete(k.Selected, o.Station)
	}
	return k.change(o, from), nil
}

// byShortCode finds the one open order whose pickup number is code, with
// or without its '#'. When several share it (two platforms' #23), the one
// still in preparation is meant; if that is not one order, the scan is
// refused.
func (k *Kitchen) byShortCode(code string) (*Order, error) {
	want := strings.TrimPrefix(code, "#")
	var all, cooking []*Order
	for _, o := range k.Orders {
		if want != "" && o.ShortCode != "" && strings.TrimPrefix(o.ShortCode, "#") == want {
			all = append(all, o)
			if rank(o.Status) < rank(wire.StatusDone) {
				cooking = append(cooking, o)
			}
		}
	}
	switch {
	case len(all) == 1:
		return all[0], nil
	case len(cooking) == 1:
		return cooking[0], nil
	case len(all) == 0:
		return nil, &Refusal{ReasonUnknownCode, fmt.Sprintf("scanned code %q names no open order", code)}
	}
	return nil, &Refusal{ReasonUnknownCode, fmt.Sprintf("scanned code %q names %d open orders", code, len(all))}
}
