package agent

import (
	"fmt"
	"time"

	"github.com/passline/passline/wire"
)

// key applies a bump-bar key as a KDS bump bar does: bump finishes the
// selected order, else the oldest in the station's queue; start starts it;
// select picks a queue position; recall reopens the station's last bump;
// mark flags the order bump would act on.
func (k *Kitchen) key(e *wire.Event) (*Change, error) {
	key := e.Key
	switch key.Action {
	case wire.KeySelect:
		return k.selectKey(key)
	case wire.KeyRecall:
		return k.recall(key, e)
	case wire.KeyMark:
		return k.mark(key, e)
	}
	o, from, err := k.target(key, e)
	if err != nil {
		return nil, err
	}
	status := wire.StatusDone
	if key.Action == wire.KeyStart {
		status = wire.StatusStarted
	}
	if !advance(o, status, e.At) {
		return nil, nil
	}
	if status == wire.StatusDone {
		k.LastBumped[key.Station] = o.ID
	}
	delete(k.Selected, key.Station)
	return k.change(o, from), nil
}

// target finds the order a bump or start acts on.
func (k *Kitchen) target(key *wire.Key, e *wire.Event) (*Order, wire.OrderStatus, error) {
	if key.OrderID != "" {
		o, from := k.placeholder(key.OrderID, e)
		return o, from, nil
	}
	if id, ok := k.Selected[key.Station]; ok {
		if o := k.Orders[id]; o != nil && rank(o.Status) < rank(wire.StatusDone) {
			return o, o.Status, nil
		}
	}
	for _, o := range k.Queue(key.Station) {
		if key.Action == wire.KeyStart && o.Status != wire.StatusAccepted {
			continue
		}
		return o, o.Status, nil
	}
	return nil, "", &Refusal{ReasonUnknownOrder, fmt.Sprintf("%s at station %q: no open order", key.Action, key.Station)}
}

func (k *Kitchen) selectKey(key *wire.Key) (*Change, error) {
	id := key.OrderID
	if id == "" {
		q := k.Queue(key.Station)
		if key.Position > len(q) {
			return nil, &Refusal{ReasonUnknownOrder, fmt.Sprintf("select position %d at station %q: queue has %d", key.Position, key.Station, len(q))}
		}
		id = q[key.Position-1].ID
	} else if k.Orders[id] == nil {
		return nil, &Refusal{ReasonUnknownOrder, fmt.Sprintf("select order %q: not open", id)}
	}
	if k.Selected[key.Station] == id {
		return nil, nil
	}
	k.Selected[key.Station] = id
	return &Change{Order: k.Orders[id], From: k.Orders[id].Status}, nil
}

// mark toggles the flag of the order a bump would finish (the named, the
// selected, else the oldest at the station); the selection stays, so the
// next bump still finishes that order. The status does not move.
func (k *Kitchen) mark(key *wire.Key, e *wire.Event) (*Change, error) {
	if key.OrderID != "" && k.Orders[key.OrderID] == nil {
		return nil, &Refusal{ReasonUnknownOrder, fmt.Sprintf("mark order %q: not open", key.OrderID)}
	}
	o, from, err := k.target(key, e)
	if err != nil {
		return nil, err
	}
	o.Marked = !o.Marked
	return &Change{Order: o, From: from}, nil
}

// recall reopens the last bumped order, within RecallWindow of its bump:
// done goes back to started, and the order is back in its station's
// queue. A recall after the window is refused: the order stays ready.
func (k *Kitchen) recall(key *wire.Key, e *wire.Event) (*Change, error) {
	id := key.OrderID
	if id == "" {
		id = k.LastBumped[key.Station]
	}
	o := k.Orders[id]
	if o == nil {
		return nil, &Refusal{ReasonUnknownOrder, fmt.Sprintf("recall at station %q: nothing to recall", key.Station)}
	}
	if o.Status != wire.StatusDone {
		return nil, nil
	}
	if since := e.At.Sub(o.DoneAt); k.RecallWindow > 0 && since > k.RecallWindow {
		return nil, &Refusal{ReasonRecallWindow, fmt.Sprintf("recall of order %s at station %q: bumped %s ago, past the %s recall window",
			o.ID, key.Station, since.Round(time.Second), k.RecallWindow)}
	}
	from := o.Status
	o.Status, o.DoneAt = wire.StatusStarted, time.Time{}
	if o.StartedAt.IsZero() {
		o.StartedAt = e.At
	}
	delete(k.LastBumped, key.Station)
	return &Change{Order: o, From: from}, nil
}
