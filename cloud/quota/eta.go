package quota

import "time"

// etaMemory remembers when each order's last eta went out and which
// decision it was, for at most interval and at most max orders. Entries are
// queued in time order, so eviction pops from the front.
type etaMemory struct {
	interval time.Duration
	max      int
	last     map[string]etaMark
	queue    []etaEntry
	head     int
}

type etaMark struct {
	at time.Time
	id string // decision id; "" when not known
}

type etaEntry struct {
	key string
	at  time.Time
}

// recent reports whether key had another eta (not decision id) less than
// interval before now.
func (m *etaMemory) recent(key, id string, now time.Time) bool {
	mark, ok := m.last[key]
	return ok && now.Sub(mark.at) < m.interval && (id == "" || mark.id != id)
}

// add records eta decision id for key at now, evicting the oldest entry
// when full. With no interval nothing needs remembering.
func (m *etaMemory) add(key, id string, now time.Time) {
	if m.interval <= 0 {
		return
	}
	if mark, ok := m.last[key]; ok && mark.id == id && id != "" {
		return // a redelivery keeps the first time
	}
	for len(m.last) >= m.max && m.head < len(m.queue) {
		m.pop()
	}
	m.last[key] = etaMark{now, id}
	m.queue = append(m.queue, etaEntry{key, now})
}

// evict drops entries that no longer limit anything.
func (m *etaMemory) evict(now time.Time) {
	for m.head < len(m.queue) && now.Sub(m.queue[m.head].at) >= m.interval {
		m.pop()
	}
}

// pop removes the oldest queue entry, and its map entry unless the key was
// recorded again later.
func (m *etaMemory) pop() {
	e := m.queue[m.head]
	m.queue[m.head] = etaEntry{} // let the key be collected
	m.head++
	if mark, ok := m.last[e.key]; ok && mark.at.Equal(e.at) {
		delete(m.last, e.key)
	}
	if m.head > 1024 && m.head*2 > len(m.queue) {
		m.queue = append([]etaEntry(nil), m.queue[m.head:]...)
		m.head = 0
	}
}
