package bolt

import (
	"encoding/json"
	"fmt"

	"github.com/passline/passline/agent"
)

// kitchenKey holds the bump-bar state (selection, last bump per station).
var kitchenKey = []byte("kitchen")

// PutOrder stores an open order.
func (t *Tx) PutOrder(o *agent.Order) error {
	b, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("encode order %s: %w", o.ID, err)
	}
	bk := t.b(bucketOrders)
	if bk.Get([]byte(o.ID)) == nil {
		if err := t.add(cOrders, 1); err != nil {
			return err
		}
	}
	return bk.Put([]byte(o.ID), b)
}

// DeleteOrder removes an open order, if present.
func (t *Tx) DeleteOrder(id string) error {
	bk := t.b(bucketOrders)
	if bk.Get([]byte(id)) == nil {
		return nil
	}
	if err := t.add(cOrders, -1); err != nil {
		return err
	}
	return bk.Delete([]byte(id))
}

// Order returns an open order, or nil.
func (t *Tx) Order(id string) (*agent.Order, error) {
	v := t.b(bucketOrders).Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	var o agent.Order
	if err := json.Unmarshal(v, &o); err != nil {
		return nil, fmt.Errorf("decode order %s: %w", id, err)
	}
	return &o, nil
}

// Orders returns every open order.
func (t *Tx) Orders() ([]*agent.Order, error) {
	var out []*agent.Order
	err := t.b(bucketOrders).ForEach(func(k, v []byte) error {
		var o agent.Order
		if err := json.Unmarshal(v, &o); err != nil {
			return fmt.Errorf("decode order %s: %w", k, err)
		}
		out = append(out, &o)
		return nil
	})
	return out, err
}

// PutKitchenState stores the bump-bar state of k.
func (t *Tx) PutKitchenState(k *agent.Kitchen) error {
	b, err := json.Marshal(k)
	if err != nil {
		return err
	}
	return t.b(bucketMeta).Put(kitchenKey, b)
}

// LoadKitchen rebuilds the kitchen from the committed open orders and
// bump-bar state. Closed is wired to the history index.
func (d *DB) LoadKitchen(store string) (*agent.Kitchen, error) {
	k := agent.NewKitchen(store)
	err := d.View(func(t *Tx) error {
		orders, err := t.Orders()
		if err != nil {
			return err
		}
		for _, o := range orders {
			k.Orders[o.ID] = o
		}
		k.Reindex()
		if v := t.b(bucketMeta).Get(kitchenKey); v != nil {
			var st struct {
				Selected   map[string]string `json:"selected"`
				LastBumped map[string]string `json:"last_bumped"`
			}
			if err := json.Unmarshal(v, &st); err != nil {
				return fmt.Errorf("decode kitchen state: %w", err)
			}
			if st.Selected != nil {
				k.Selected = st.Selected
			}
			if st.LastBumped != nil {
				k.LastBumped = st.LastBumped
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load kitchen from %s: %w", d.path, err)
	}
	return k, nil
}

// SaveModel stores a serialized prediction model for store.
func (t *Tx) SaveModel(store string, b []byte) error {
	return t.b(BucketModel).Put([]byte(store), b)
}

// LoadModel returns the stored model of store, or nil when there is none.
func (d *DB) LoadModel(store string) ([]byte, error) {
	var out []byte
	err := d.View(func(t *Tx) error {
		if v := t.b(BucketModel).Get([]byte(store)); v != nil {
			out = append([]byte(nil), v...)
		}
		return nil
	})
	return out, err
}
