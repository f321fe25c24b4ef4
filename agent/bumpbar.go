package agent

import (
	"fmt"
	"time"

	"github.com/passline/passline/wire"
)

// key applies a bump-bar key as a KDS bump bar does: bump finishes the
// selected order, else the oldest in the station's queue; start starts it;
// select picks a queue position; recall reopens the station's last bump.
func (k *Kitchen) key(e *wire.Event) (*Change, error) {
	key := e.Key
	switch key.Action {
	case wire.KeySelect:
		return k.selectKey(key)
	case wire.KeyRecall:
		return k.recall(key, e)
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

// recall reopens the last bumped order: done goes back to started.
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
	from := o.Status
	o.Status, o.DoneAt = wire.StatusStarted, time.Time{}
	if o.StartedAt.IsZero() {
		o.StartedAt = e.At
	}
	delete(k.LastBumped, key.Station)
	return &Change{Order: o, From: from}, nil
}
